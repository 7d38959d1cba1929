#!/usr/bin/env python3
"""Write scikit-learn reference values for `crates/eval/src/{roc,verification,tagging,knn}.rs`.

Usage (from the repository root):

    python3 tools/verification_reference.py [--out crates/eval/tests/fixtures/verification.json]

Written with Python 3.11.7, NumPy 2.4.6, SciPy 1.17.1, scikit-learn 1.9.1. Seeded: every case
draws from its own generator `numpy.random.default_rng([SEED, case_number])`, so adding a case
changes no other. Read by `crates/eval/tests/verification_oracle.rs`.

What is stored (JSON, every float as Python's shortest round-trip repr; `+inf` as null):

- `binary`: score / label cases (continuous, heavily tied, tiny), each with
  `sklearn.metrics.roc_curve(drop_intermediate=False)` (fpr, tpr, thresholds), `roc_auc_score`,
  and the EER: `brentq(lambda x: 1 - x - interp(x, fpr, tpr), 0, 1)` over that curve (the
  usual scikit-learn recipe; an independent root finder, not the Rust closed form) and the
  threshold of the first ROC point with `FRR <= FAR`, counted in integers.
- `pairs`: 16-d float32 embeddings of 8 singers x 6 clips; every pair `i < j` scored with
  `sklearn.metrics.pairwise.cosine_similarity` (on float64 copies of the float32 values), with
  its EER and AUC.
- `tagging`: `[samples x tags]` score and 0/1 label matrices with
  `roc_auc_score(average='macro' | 'micro')` and per tag; one case has a tag with a single
  class, where scikit-learn 1.9 warns (`UndefinedMetricWarning`, kept in `macro_warning`) and
  returns NaN for that tag and for the macro mean (stored as null; older releases raised
  `ValueError` instead).
- `knn`: enrolment and query embeddings (float32 values) and, per metric (cosine, euclidean) and
  k, `KNeighborsClassifier(n_neighbors=k, algorithm='brute', metric=...)`: its predictions, its
  neighbour lists (`kneighbors`), whether the vote was tied, and `expected`: scikit-learn's
  prediction where no tie, else the tied label whose member comes first in scikit-learn's
  neighbour list (singerid's rule; scikit-learn picks the lowest label there).
- `knn_loo`: leave-one-out accuracy (`LeaveOneOut` folds, the same tie rule).
"""

import argparse
import json
import math
import pathlib
import sys
import warnings

import numpy as np
import scipy
import sklearn
from scipy.optimize import brentq
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.metrics.pairwise import cosine_similarity
from sklearn.model_selection import LeaveOneOut
from sklearn.neighbors import KNeighborsClassifier

SEED = 20241215


def rng_for(number):
    return np.random.default_rng([SEED, number])


def floats(xs):
    return [None if math.isinf(x) else float(x) for x in np.asarray(xs, dtype=np.float64).ravel()]


def eer_of(scores, labels):
    fpr, tpr, thresholds = roc_curve(labels, scores, drop_intermediate=False)
    eer = brentq(lambda x: 1.0 - x - np.interp(x, fpr, tpr), 0.0, 1.0, xtol=1e-15)
    p, n = int(np.sum(labels)), int(len(labels) - np.sum(labels))
    tps, fps = np.rint(tpr * p).astype(np.int64), np.rint(fpr * n).astype(np.int64)
    first = next(i for i in range(1, len(fps)) if (p - tps[i]) * n <= fps[i] * p)
    return float(eer), float(thresholds[first])


def binary_case(name, scores, labels):
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    fpr, tpr, thresholds = roc_curve(labels, scores, drop_intermediate=False)
    eer, threshold = eer_of(scores, labels)
    return {
        "name": name,
        "scores": floats(scores),
        "labels": labels.tolist(),
        "fpr": floats(fpr),
        "tpr": floats(tpr),
        "thresholds": floats(thresholds),
        "auc": float(roc_auc_score(labels, scores)),
        "eer": eer,
        "eer_threshold": threshold,
    }


def binary_cases():
    cases = []
    # 1. Continuous scores, 60 positives and 140 negatives, overlapping normals.
    rng = rng_for(1)
    labels = np.array([1] * 60 + [0] * 140)
    rng.shuffle(labels)
    scores = rng.normal(0.0, 1.0, size=200) + 1.2 * labels
    cases.append(binary_case("continuous", scores, labels))
    # 2. Heavy ties: scores on a 0.1 grid, so most thresholds hold both classes.
    rng = rng_for(2)
    labels = (rng.random(150) < 0.4).astype(np.int64)
    scores = np.round(np.clip(rng.normal(0.5, 0.2, size=150) + 0.15 * labels, 0.0, 1.0), 1)
    cases.append(binary_case("tied", scores, labels))
    # 3. The crossing on a vertical segment (a tie of positives only) and on a tied diagonal.
    cases.append(binary_case("tiny", [0.9, 0.7, 0.7, 0.5, 0.3, 0.3, 0.1], [1, 1, 1, 0, 1, 0, 0]))
    # 4. Perfectly separated and fully reversed.
    cases.append(binary_case("separable", [0.8, 0.9, 0.1, 0.2, 0.3], [1, 1, 0, 0, 0]))
    cases.append(binary_case("reversed", [0.1, 0.2, 0.8, 0.9, 0.7], [1, 1, 0, 0, 0]))
    return cases


def singer_embeddings(rng, singers, per_singer, dim, spread):
    centres = rng.normal(0.0, 1.0, size=(singers, dim))
    labels = np.repeat(np.arange(singers), per_singer)
    x = centres[labels] + spread * rng.normal(0.0, 1.0, size=(len(labels), dim))
    return labels, x.astype(np.float32)


def pairs_case():
    rng = rng_for(3)
    labels, emb = singer_embeddings(rng, 8, 6, 16, 1.1)
    sim = cosine_similarity(emb.astype(np.float64))
    i, j = np.triu_indices(len(labels), k=1)
    scores = sim[i, j]
    same = (labels[i] == labels[j]).astype(np.int64)
    eer, threshold = eer_of(scores, same)
    return {
        "labels": labels.tolist(),
        "embeddings": [floats(e) for e in emb],
        "scores": floats(scores),
        "same": same.tolist(),
        "eer": eer,
        "eer_threshold": threshold,
        "auc": float(roc_auc_score(same, scores)),
    }


def tagging_case(name, scores, labels):
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    case = {"name": name, "scores": [floats(r) for r in scores], "labels": labels.tolist()}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        macro = float(roc_auc_score(labels, scores, average="macro"))
    # scikit-learn 1.9 warns and returns NaN for a tag with one class (older releases raised
    # ValueError); JSON has no NaN, so the value is null and the warning is kept.
    case["macro"] = None if math.isnan(macro) else macro
    case["macro_warning"] = "; ".join(sorted({str(w.message) for w in caught})) or None
    case["micro"] = float(roc_auc_score(labels, scores, average="micro"))
    per_tag = []
    for t in range(labels.shape[1]):
        if len(np.unique(labels[:, t])) < 2:
            per_tag.append(None)
        else:
            per_tag.append(float(roc_auc_score(labels[:, t], scores[:, t])))
    case["per_tag"] = per_tag
    return case


def tagging_cases():
    cases = []
    # 1. 120 clips x 10 tags: sigmoid-like scores, labels drawn from them (tag rates 5-60 %).
    rng = rng_for(4)
    logits = rng.normal(0.0, 1.5, size=(120, 10)) + rng.uniform(-3.0, 0.5, size=10)
    p = 1.0 / (1.0 + np.exp(-logits))
    labels = (rng.random(p.shape) < p).astype(np.int64)
    scores = 1.0 / (1.0 + np.exp(-(logits + rng.normal(0.0, 1.0, size=p.shape))))
    cases.append(tagging_case("continuous", scores, labels))
    # 2. 60 x 5 with scores on a 0.1 grid (ties within and across tags).
    rng = rng_for(5)
    labels = (rng.random((60, 5)) < 0.3).astype(np.int64)
    scores = np.round(np.clip(rng.random((60, 5)) * 0.8 + 0.2 * labels, 0.0, 1.0), 1)
    cases.append(tagging_case("tied", scores, labels))
    # 3. Tag 2 never present: macro is undefined.
    rng = rng_for(6)
    labels = (rng.random((30, 4)) < 0.4).astype(np.int64)
    labels[:, 2] = 0
    scores = rng.random((30, 4))
    cases.append(tagging_case("one-class tag", scores, labels))
    return cases


def vote_with_nearest_tie(neighbour_labels):
    """Majority label; a tie goes to the tied label that appears first (nearest)."""
    counts = {}
    for label in neighbour_labels:
        counts[label] = counts.get(label, 0) + 1
    most = max(counts.values())
    tied = [label for label, c in counts.items() if c == most]
    winner = next(label for label in neighbour_labels if counts[label] == most)
    return int(winner), len(tied) > 1


def knn_cases():
    rng = rng_for(7)
    labels, emb = singer_embeddings(rng, 6, 13, 16, 1.3)
    order = rng.permutation(len(labels))
    enrol_idx, query_idx = order[:48], order[48:]
    enrol, query = emb[enrol_idx], emb[query_idx]
    enrol_labels, query_labels = labels[enrol_idx], labels[query_idx]
    cases = []
    for metric in ["cosine", "euclidean"]:
        for k in [1, 2, 3, 4, 5, 8, 11]:
            clf = KNeighborsClassifier(n_neighbors=k, algorithm="brute", metric=metric)
            clf.fit(enrol.astype(np.float64), enrol_labels)
            predicted = clf.predict(query.astype(np.float64))
            _, neighbours = clf.kneighbors(query.astype(np.float64))
            expected, ties = [], []
            for q in range(len(query)):
                winner, tie = vote_with_nearest_tie(enrol_labels[neighbours[q]].tolist())
                if not tie:
                    assert winner == predicted[q], (metric, k, q)
                expected.append(winner)
                ties.append(tie)
            expected = np.array(expected)
            cases.append({
                "metric": metric,
                "k": k,
                "sklearn_predicted": predicted.tolist(),
                "neighbours": neighbours.tolist(),
                "vote_tie": ties,
                "expected": expected.tolist(),
                "accuracy": float(np.mean(expected == query_labels)),
                "sklearn_accuracy": float(clf.score(query.astype(np.float64), query_labels)),
            })
    return {
        "enrol_labels": enrol_labels.tolist(),
        "enrol": [floats(e) for e in enrol],
        "query_labels": query_labels.tolist(),
        "query": [floats(e) for e in query],
        "cases": cases,
    }


def knn_loo_cases():
    rng = rng_for(8)
    labels, emb = singer_embeddings(rng, 5, 8, 16, 1.5)
    x = emb.astype(np.float64)
    cases = []
    for metric in ["cosine", "euclidean"]:
        for k in [1, 3, 4, 7]:
            correct = 0
            for train, test in LeaveOneOut().split(x):
                clf = KNeighborsClassifier(n_neighbors=k, algorithm="brute", metric=metric)
                clf.fit(x[train], labels[train])
                _, neighbours = clf.kneighbors(x[test])
                winner, _ = vote_with_nearest_tie(labels[train][neighbours[0]].tolist())
                correct += int(winner == labels[test][0])
            cases.append({"metric": metric, "k": k, "accuracy": correct / len(labels)})
    return {"labels": labels.tolist(), "embeddings": [floats(e) for e in emb], "cases": cases}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--out",
        type=pathlib.Path,
        default=pathlib.Path("crates/eval/tests/fixtures/verification.json"),
    )
    args = parser.parse_args()
    fixture = {
        "generator": "tools/verification_reference.py",
        "versions": {
            "python": sys.version.split()[0],
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "scikit-learn": sklearn.__version__,
        },
        "seed": SEED,
        "binary": binary_cases(),
        "pairs": pairs_case(),
        "tagging": tagging_cases(),
        "knn": knn_cases(),
        "knn_loo": knn_loo_cases(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(fixture, f, indent=1, sort_keys=True, allow_nan=False)
        f.write("\n")
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
