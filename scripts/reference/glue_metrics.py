"""Reference GLUE metrics for the glue metric parity test, named as Hugging Face's run_glue.py reports them.

Usage: glue_metrics.py REQUEST.json

REQUEST: [{"task": TASK, "preds": [...], "labels": [...]}, ...] with class ids, or scores for sts-b.

run_glue.py scores with the evaluate library's glue metric, which calls scikit-learn (accuracy, f1_score,
matthews_corrcoef) and scipy (pearsonr, spearmanr), and adds "combined_score", the mean, when there are
several values. Neither scikit-learn nor scipy is in the reference environment, so their formulas are written
here with numpy:
  accuracy              mean(preds == labels)
  f1                    f1_score(labels, preds): 2 TP / (2 TP + FP + FN) of class 1, 0 without positives
  matthews_correlation  matthews_corrcoef from the confusion matrix, 0 when undefined
  pearson               pearsonr: centred, normalised dot product, clipped to [-1, 1]; NaN for constant input
  spearmanr             pearson of the ranks (rankdata, method "average")
Output, on stdout: one {name: value} object per request entry, NaN written as null.
"""

import json
import math
import sys

import numpy as np

ACC = {"mnli", "qnli", "rte", "sst-2", "wnli"}
ACC_F1 = {"mrpc", "qqp"}


def f1(preds, labels):
    tp = int(np.sum((preds == 1) & (labels == 1)))
    fp = int(np.sum((preds == 1) & (labels != 1)))
    fn = int(np.sum((preds != 1) & (labels == 1)))
    return 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)


def matthews(preds, labels):
    n = int(max(preds.max(), labels.max())) + 1
    c = np.zeros((n, n), dtype=np.float64)
    for t, p in zip(labels, preds):
        c[t, p] += 1
    t_sum, p_sum = c.sum(axis=1), c.sum(axis=0)
    n_correct, n_samples = np.trace(c), p_sum.sum()
    cov_ytyp = n_correct * n_samples - np.dot(t_sum, p_sum)
    cov_ypyp = n_samples**2 - np.dot(p_sum, p_sum)
    cov_ytyt = n_samples**2 - np.dot(t_sum, t_sum)
    if cov_ypyp * cov_ytyt == 0:
        return 0.0
    return float(cov_ytyp / np.sqrt(cov_ytyt * cov_ypyp))


def pearson(x, y):
    xm, ym = x - x.mean(), y - y.mean()
    nx, ny = np.linalg.norm(xm), np.linalg.norm(ym)
    if nx == 0 or ny == 0:
        return math.nan
    return float(max(-1.0, min(1.0, np.dot(xm / nx, ym / ny))))


def rankdata(x):
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(len(x), dtype=np.float64)
    i = 0
    while i < len(x):
        j = i
        while j + 1 < len(x) and x[order[j + 1]] == x[order[i]]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def score(task, preds, labels):
    if task == "sts-b":
        p, l = np.asarray(preds, dtype=np.float64), np.asarray(labels, dtype=np.float64)
        out = {"pearson": pearson(p, l), "spearmanr": pearson(rankdata(p), rankdata(l))}
    else:
        p, l = np.asarray(preds, dtype=np.int64), np.asarray(labels, dtype=np.int64)
        if task == "cola":
            out = {"matthews_correlation": matthews(p, l)}
        elif task in ACC_F1:
            out = {"accuracy": float((p == l).mean()), "f1": f1(p, l)}
        elif task in ACC:
            out = {"accuracy": float((p == l).mean())}
        else:
            raise SystemExit(f"unknown task {task!r}")
    if len(out) > 1:
        out["combined_score"] = float(np.mean(list(out.values())))
    return {k: (None if math.isnan(v) else v) for k, v in out.items()}


def main(argv):
    if len(argv) != 1:
        sys.exit(__doc__)
    with open(argv[0], encoding="utf-8") as f:
        req = json.load(f)
    json.dump([score(r["task"], r["preds"], r["labels"]) for r in req], sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1:])
