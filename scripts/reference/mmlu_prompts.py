"""MMLU prompt reference for llama/mmlu's parity test.

Builds k-shot MMLU prompts with the logic of the reference evaluation code
(format_subject, format_example and gen_prompt of hendrycks/test evaluate.py,
which open-instruct's eval/mmlu/run_eval.py repeats), and the reference's
while-loop that drops shots until the prompt fits a token budget. Rows are
read with the csv module, every field kept as a string.

Writes one JSON object to stdout:
  files:  {"<split>/<file>": sha256 of the parsed fields} for every CSV file
  prompts: {subject: [sha256 of the k-shot prompt of each test question]}
  full:   {subject: [the first --full_n prompts, verbatim]} for --full_subjects
  fit:    {subject: [[shots kept, sha256 of prompt]]}, where a prompt fits
          when its UTF-8 length in bytes is <= --max_bytes
"""

import argparse
import csv
import hashlib
import json
import os
import sys

choices = ["A", "B", "C", "D"]


def read_rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return [row for row in csv.reader(f)]


def format_subject(subject):
    l = subject.split("_")
    s = ""
    for entry in l:
        s += " " + entry
    return s


def format_example(rows, idx, include_answer=True):
    prompt = rows[idx][0]
    k = len(rows[idx]) - 2
    for j in range(k):
        prompt += "\n{}. {}".format(choices[j], rows[idx][j + 1])
    prompt += "\nAnswer:"
    if include_answer:
        prompt += " {}\n\n".format(rows[idx][k + 1])
    return prompt


def gen_prompt(train_rows, subject, k=-1):
    prompt = "The following are multiple choice questions (with answers) about {}.\n\n".format(
        format_subject(subject)
    )
    if k == -1:
        k = len(train_rows)
    for i in range(k):
        prompt += format_example(train_rows, i)
    return prompt


def sha(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def fields_digest(rows):
    h = hashlib.sha256()
    for row in rows:
        for field in row:
            h.update(field.encode("utf-8") + b"\x1f")
        h.update(b"\x1e")
    return h.hexdigest()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data_dir", required=True)
    p.add_argument("--ntrain", type=int, default=5)
    p.add_argument("--full_subjects", default="")
    p.add_argument("--full_n", type=int, default=2)
    p.add_argument("--max_bytes", type=int, default=6000)
    args = p.parse_args()

    out = {"files": {}, "prompts": {}, "full": {}, "fit": {}}
    for split in ["dev", "val", "test"]:
        for name in sorted(os.listdir(os.path.join(args.data_dir, split))):
            if name.endswith(".csv"):
                rows = read_rows(os.path.join(args.data_dir, split, name))
                out["files"][split + "/" + name] = fields_digest(rows)

    subjects = sorted(
        f.split("_test.csv")[0] for f in os.listdir(os.path.join(args.data_dir, "test")) if "_test.csv" in f
    )
    full = set(s for s in args.full_subjects.split(",") if s)
    for subject in subjects:
        dev_rows = read_rows(os.path.join(args.data_dir, "dev", subject + "_dev.csv"))[: args.ntrain]
        test_rows = read_rows(os.path.join(args.data_dir, "test", subject + "_test.csv"))
        digests, fits, texts = [], [], []
        for i in range(len(test_rows)):
            k = args.ntrain
            prompt_end = format_example(test_rows, i, include_answer=False)
            train_prompt = gen_prompt(dev_rows, subject, k)
            prompt = train_prompt + prompt_end
            digests.append(sha(prompt))
            if subject in full and i < args.full_n:
                texts.append(prompt)
            while len(prompt.encode("utf-8")) > args.max_bytes:
                k -= 1
                train_prompt = gen_prompt(dev_rows, subject, k)
                prompt = train_prompt + prompt_end
            fits.append([k, sha(prompt)])
        out["prompts"][subject] = digests
        out["fit"][subject] = fits
        if texts:
            out["full"][subject] = texts
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
