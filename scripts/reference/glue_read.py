"""Reads GLUE TSV files with Hugging Face's GLUE processors and prints the examples as JSON.

Usage: glue_read.py TASK=PATH [TASK=PATH ...]
       (TASK is one of cola, mnli, mrpc, qnli, qqp, rte, sst-2, sts-b, wnli)

Each file is read with DataProcessor._read_tsv (utf-8-sig, tab delimiter, quoting disabled)
and turned into examples by the task's processor (_create_examples). The processors address
columns by position; a file whose header puts the needed columns elsewhere (the SST-2 train
file with `label<TAB>sentence`) has those columns moved to the processor's positions first,
found by header name. CoLA's train and dev files have no header and are read as they are. Output, on
stdout:

  {PATH: {"reordered": bool, "labels": [...],
          "examples": [{"guid", "text_a", "text_b", "label", "label_id"}, ...]}, ...}

label_id is the label's index in the processor's labels, or for STS-B (labels [None]) the score as a float,
as glue_convert_examples_to_features makes it for a regression task.
"""

import json
import sys
import warnings

warnings.simplefilter("ignore")

from transformers.data.processors.glue import glue_output_modes, glue_processors  # noqa: E402

# Column name -> position the processor reads it from (negative: from the end).
POSITIONS = {
    "cola": None,  # no header: source, label, original label, sentence
    "mnli": {"sentence1": 8, "sentence2": 9, "gold_label": -1},
    "mrpc": {"Quality": 0, "#1 String": 3, "#2 String": 4},
    "rte": {"sentence1": 1, "sentence2": 2, "label": -1},
    "sts-b": {"sentence1": 7, "sentence2": 8, "score": -1},
    "wnli": {"sentence1": 1, "sentence2": 2, "label": -1},
    "qqp": {"question1": 3, "question2": 4, "is_duplicate": 5},
    "sst-2": {"sentence": 0, "label": 1},
    "qnli": {"question": 1, "sentence": 2, "label": -1},
}


def to_processor_layout(task, lines):
    if POSITIONS[task] is None:
        return lines, False
    header = lines[0]
    n = len(header)
    moves = {}
    for col, pos in POSITIONS[task].items():
        src = header.index(col)
        dst = pos % n
        if src != dst:
            moves[dst] = src
    if not moves:
        return lines, False
    out = []
    for row in lines:
        new = list(row)
        for dst, src in moves.items():
            new[dst] = row[src]
        out.append(new)
    return out, True


def read(task, path):
    proc = glue_processors[task]()
    lines = proc._read_tsv(path)
    lines, reordered = to_processor_layout(task, lines)
    set_type = "train" if path.endswith("train.tsv") else "dev"
    examples = proc._create_examples(lines, set_type)
    labels = proc.get_labels()
    label_map = {label: i for i, label in enumerate(labels)}
    output_mode = glue_output_modes[task]

    def label_id(label):
        return float(label) if output_mode == "regression" else label_map[label]

    return {
        "reordered": reordered,
        "labels": labels,
        "examples": [
            {
                "guid": ex.guid,
                "text_a": ex.text_a,
                "text_b": ex.text_b,
                "label": ex.label,
                "label_id": label_id(ex.label),
            }
            for ex in examples
        ],
    }


def main(argv):
    if not argv:
        sys.exit(__doc__)
    out = {}
    for arg in argv:
        task, sep, path = arg.partition("=")
        if not sep or task not in POSITIONS:
            sys.exit(f"bad argument {arg!r}: want TASK=PATH with TASK in {sorted(POSITIONS)}")
        out[path] = read(task, path)
    json.dump(out, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main(sys.argv[1:])
