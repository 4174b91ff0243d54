"""pandas reading reference for llama/mmlu's field conversion test.

Reads a JSON list of CSV texts from the file named by the first argument,
writes each to a file and reads it as the original MMLU evaluator does
(hendrycks/test evaluate.py, copied by open-instruct's eval/mmlu/run_eval.py):
pandas.read_csv(path, header=None), every cell then formatted with
"{}".format(df.iloc[i, j]). Writes a JSON list to stdout, one entry per text:
{"rows": [[cell, ...], ...], "dtypes": [dtype name per column]}.
"""

import json
import os
import sys
import tempfile

import pandas as pd


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        texts = json.load(f)
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "in.csv")
        for text in texts:
            with open(path, "w", encoding="utf-8", newline="") as f:
                f.write(text)
            df = pd.read_csv(path, header=None)
            rows = [["{}".format(df.iloc[i, j]) for j in range(df.shape[1])] for i in range(df.shape[0])]
            out.append({"rows": rows, "dtypes": [str(df[c].dtype) for c in df.columns]})
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
