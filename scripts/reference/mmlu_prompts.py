"""MMLU prompt reference for llama/mmlu's parity test.

Reads the CSV files and builds k-shot MMLU prompts exactly as the original
evaluator does: hendrycks/test evaluate.py (main, eval, format_subject,
format_example, gen_prompt), which open-instruct's eval/mmlu/run_eval.py
copies. Each <subject>_<split>.csv is read with
pandas.read_csv(path, header=None) (so a cell "None" becomes NaN, printed
"nan", and numeric columns print as pandas' int64/float64 values) and every
cell enters the prompt through "{}".format(df.iloc[idx, j]); shots are taken
with dev_df[:ntrain] and dropped from the end by the reference's while-loop
until the prompt fits the budget.

Writes one JSON object to stdout:
  files:  {"<split>/<file>": sha256 of the formatted cells} for every CSV file
  prompts: {"<split>/<subject>": [sha256 of the k-shot prompt of each
          question]} for every split and subject (shots from the dev file)
  full:   {subject: [the first --full_n test prompts, verbatim]} for
          --full_subjects
  fit:    {subject: [[shots kept, sha256 of prompt]]} for the test split,
          where a prompt fits when its UTF-8 length in bytes is <= --max_bytes
"""

import argparse
import hashlib
import json
import os
import sys

import pandas as pd

choices = ["A", "B", "C", "D"]


def format_subject(subject):
    l = subject.split("_")
    s = ""
    for entry in l:
        s += " " + entry
    return s


def format_example(df, idx, include_answer=True):
    prompt = df.iloc[idx, 0]
    k = df.shape[1] - 2
    for j in range(k):
        prompt += "\n{}. {}".format(choices[j], df.iloc[idx, j + 1])
    prompt += "\nAnswer:"
    if include_answer:
        prompt += " {}\n\n".format(df.iloc[idx, k + 1])
    return prompt


def gen_prompt(train_df, subject, k=-1):
    prompt = "The following are multiple choice questions (with answers) about {}.\n\n".format(
        format_subject(subject)
    )
    if k == -1:
        k = train_df.shape[0]
    for i in range(k):
        prompt += format_example(train_df, i)
    return prompt


def read(path):
    return pd.read_csv(path, header=None)


def sha(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def fields_digest(df):
    h = hashlib.sha256()
    for i in range(df.shape[0]):
        for j in range(df.shape[1]):
            h.update("{}".format(df.iloc[i, j]).encode("utf-8") + b"\x1f")
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

    splits = ["dev", "val", "test"]
    out = {"files": {}, "prompts": {}, "full": {}, "fit": {}}
    for split in splits:
        for name in sorted(os.listdir(os.path.join(args.data_dir, split))):
            if name.endswith(".csv"):
                out["files"][split + "/" + name] = fields_digest(read(os.path.join(args.data_dir, split, name)))

    full = set(s for s in args.full_subjects.split(",") if s)
    for split in splits:
        suffix = "_" + split + ".csv"
        subjects = sorted(f.split(suffix)[0] for f in os.listdir(os.path.join(args.data_dir, split)) if suffix in f)
        for subject in subjects:
            dev_df = read(os.path.join(args.data_dir, "dev", subject + "_dev.csv"))[: args.ntrain]
            test_df = read(os.path.join(args.data_dir, split, subject + suffix))
            digests, fits, texts = [], [], []
            for i in range(test_df.shape[0]):
                k = args.ntrain
                prompt_end = format_example(test_df, i, include_answer=False)
                train_prompt = gen_prompt(dev_df, subject, k)
                prompt = train_prompt + prompt_end
                digests.append(sha(prompt))
                if split != "test":
                    continue
                if subject in full and i < args.full_n:
                    texts.append(prompt)
                while len(prompt.encode("utf-8")) > args.max_bytes:
                    k -= 1
                    train_prompt = gen_prompt(dev_df, subject, k)
                    prompt = train_prompt + prompt_end
                fits.append([k, sha(prompt)])
            out["prompts"][split + "/" + subject] = digests
            if split == "test":
                out["fit"][subject] = fits
                if texts:
                    out["full"][subject] = texts
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
