#!/usr/bin/env python3
"""Reference values for `crates/train/src/metrics.rs` and `crates/train/src/vote.rs`.

Metrics: scikit-learn's `accuracy_score`, `precision_recall_fscore_support`
(average None / 'macro' / 'weighted', zero_division=0, no `labels=`, so the
label set is `unique_labels(y_true, y_pred)`: every class that occurs in
y_true OR y_pred) and `confusion_matrix(..., labels=range(n), normalize='true')`.

Vote: the authors' song-level rule, as in `predict_artist` of
`src/utility.py` (Nasrullah & Zhao; reused by the FGNL authors):
argmax and max per clip, keep clips with max > 0.5, fall back to all clips
when none is kept, `scipy.stats.mode` (smallest value on ties).

Run: `python3 tools/metrics_reference.py` (written with Python 3.11.7,
NumPy 2.4.6, scikit-learn 1.9.1, SciPy 1.17.1). Seeded: numpy
`default_rng(20240521)`.
"""
import numpy as np
import scipy
import sklearn
from scipy import stats
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    precision_recall_fscore_support,
)


def fmt(xs):
    return "[" + ", ".join(repr(float(x)) for x in xs) + "]"


def metrics_case(name, y_true, y_pred, n_classes):
    print(f"## {name}")
    print(f"n_classes = {n_classes}")
    print(f"y_true = {list(map(int, y_true))}")
    print(f"y_pred = {list(map(int, y_pred))}")
    labels = sorted(set(map(int, y_true)) | set(map(int, y_pred)))
    print(f"label set = {labels}")
    print(f"accuracy = {accuracy_score(y_true, y_pred)!r}")
    for average in ["macro", "weighted"]:
        p, r, f, _ = precision_recall_fscore_support(
            y_true, y_pred, average=average, zero_division=0
        )
        print(f"{average}: precision = {p!r}, recall = {r!r}, f1 = {f!r}")
    p, r, f, s = precision_recall_fscore_support(
        y_true, y_pred, average=None, zero_division=0
    )
    print(f"per class precision = {fmt(p)}")
    print(f"per class recall = {fmt(r)}")
    print(f"per class f1 = {fmt(f)}")
    print(f"per class support = {list(map(int, s))}")
    cm = confusion_matrix(y_true, y_pred, labels=list(range(n_classes)), normalize="true")
    print("row-normalised confusion =")
    for row in cm:
        print("    " + fmt(row))
    print()


def authors_vote(probs):
    probs = np.asarray(probs, dtype=np.float32)
    class_prediction = np.argmax(probs, axis=1)
    class_probability = np.max(probs, axis=1)
    kept = class_prediction[class_probability > 0.5]
    if len(kept) == 0:
        kept = class_prediction
    return int(np.atleast_1d(stats.mode(kept, keepdims=False)[0])[0])


def main():
    print(f"# numpy {np.__version__}, scikit-learn {sklearn.__version__}, scipy {scipy.__version__}")
    print()
    # 1. The hand-worked case of the Rust tests.
    metrics_case(
        "hand",
        [0, 0, 0, 1, 1, 2],
        [0, 0, 1, 1, 2, 2],
        3,
    )
    # 2. Class 3 only predicted, class 2 only true, class 4 absent from both.
    metrics_case(
        "absent classes",
        [0, 0, 1, 1, 1, 2, 2, 0],
        [0, 3, 1, 1, 0, 0, 1, 0],
        5,
    )
    # 3. Random, 20 classes, 300 samples, skewed so that some classes are rare.
    rng = np.random.default_rng(20240521)
    weights = rng.random(20) ** 3
    weights /= weights.sum()
    y_true = rng.choice(20, size=300, p=weights)
    noise = rng.integers(0, 20, size=300)
    y_pred = np.where(rng.random(300) < 0.55, y_true, noise)
    metrics_case("random 20 classes", y_true, y_pred, 20)

    print("## votes (authors' rule)")
    cases = {
        "majority of confident": [[0.6, 0.3, 0.1], [0.2, 0.7, 0.1], [0.1, 0.8, 0.1], [0.4, 0.35, 0.25]],
        "exactly 0.5 does not qualify": [[0.5, 0.3, 0.2], [0.5, 0.4, 0.1], [0.1, 0.6, 0.3]],
        "fallback to all clips": [[0.45, 0.4, 0.15], [0.3, 0.45, 0.25], [0.2, 0.3, 0.5], [0.1, 0.45, 0.45]],
        "tie goes to the lowest class": [[0.1, 0.1, 0.8], [0.9, 0.05, 0.05], [0.05, 0.05, 0.9], [0.7, 0.2, 0.1]],
        "argmax tie picks the first index": [[0.4, 0.4, 0.2], [0.2, 0.4, 0.4]],
    }
    for name, probs in cases.items():
        print(f"{name}: {authors_vote(probs)}")
    # Random songs: 12 songs of 1-6 clips, 4 classes, Dirichlet "softmax" outputs
    # rounded to float32 (printed as the shortest float32 decimal).
    print("random songs (seeded, see script):")
    for song in range(12):
        n = int(rng.integers(1, 7))
        alpha = rng.uniform(0.3, 2.0)
        probs = rng.dirichlet([alpha] * 4, size=n).astype(np.float32)
        rows = ", ".join("[" + ", ".join(str(np.float32(x)) for x in row) + "]" for row in probs)
        print(f"    ({authors_vote(probs)}, &[{rows}]),")


if __name__ == "__main__":
    main()
