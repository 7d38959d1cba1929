#!/usr/bin/env python3
"""Which clip summary and which classifier identify singers best from separated vocals?
A diagnostic for issue 13, not the product (scikit-learn / librosa are reference tools here).

Train on the pool's train split, score on val (never test), both from the shipped separator's
vocals in singerid's separated cache (`singerid eval` fills it). 3 s clips (94 frames) from
frame 0, log-mel as bench/separated_mismatch.py. Summaries compared per clip:
  ms      mean and std per band (what mel_stats_linear computes)
  pct     ms + 10th/50th/90th percentiles per band
  delta   ms + mean and std of the frame-to-frame difference per band
  loud    mean and std over the clip's loudest half of frames only (loud25, loud75: quarter,
          three quarters; withinNdB: frames within N dB of the clip's loudest, by mean band dB)
  mfcc    20 DCT coefficients' mean, std and covariance (upper triangle)
Classifiers: multinomial logistic regression (C), an RBF SVM, a one-hidden-layer MLP.
MIR-1K: research-only.

Usage: python bench/stats_features_sweep.py [--sep-id ID] [--also-mix]
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from separated_mismatch import CACHE, SR, rows, separated, stereo  # noqa: E402


def logmel(y):
    import librosa

    m = librosa.feature.melspectrogram(y=y, sr=SR, n_fft=2048, hop_length=512, n_mels=128)
    return librosa.power_to_db(m, ref=np.max, top_db=80.0)


def clips(db):
    return [db[:, s : s + 94] for s in range(0, db.shape[1] - 94 + 1, 94)]


def summaries(c):
    import scipy.fftpack

    ms = np.concatenate([c.mean(1), c.std(1)])
    out = {"ms": ms}
    out["pct"] = np.concatenate([ms, np.percentile(c, [10, 50, 90], axis=1).ravel()])
    d = np.diff(c, axis=1)
    out["delta"] = np.concatenate([ms, d.mean(1), d.std(1)])
    energy = c.mean(0)
    loud = c[:, energy >= np.median(energy)]
    out["loud"] = np.concatenate([loud.mean(1), loud.std(1)])
    m = scipy.fftpack.dct(c, axis=0, norm="ortho")[:20]
    cov = np.cov(m)
    out["mfcc"] = np.concatenate([m.mean(1), m.std(1), cov[np.triu_indices(20, 1)]])
    out["ms+mfcc"] = np.concatenate([ms, out["mfcc"]])
    for q in (25, 75):
        sel = c[:, energy >= np.percentile(energy, q)]
        out[f"loud{100 - q}"] = np.concatenate([sel.mean(1), sel.std(1)])
    for db in (6, 8, 10, 12, 15, 20):
        sel = c[:, energy >= energy.max() - db]
        out[f"within{db}dB"] = np.concatenate([sel.mean(1), sel.std(1)])
    ml = m[:, energy >= np.median(energy)]
    cov = np.cov(ml)
    out["loud+mfcc(loud)"] = np.concatenate([out["loud"], ml.mean(1), ml.std(1),
                                             cov[np.triu_indices(20, 1)]])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sep-id", default=None)
    ap.add_argument("--also-mix", action="store_true")
    ap.add_argument("--only", help="comma-separated summaries to score (default: all)")
    args = ap.parse_args()
    sep_id = args.sep_id or sorted(os.listdir(CACHE))[-1]
    print(f"separator {sep_id}", file=sys.stderr)
    data = {}
    for i, r in enumerate(rows()):
        if r["split"] not in ("train", "val"):
            continue
        sig = separated(r["path"], sep_id)
        mix = stereo(r["path"]).mean(0) if args.also_mix else None
        cs = clips(logmel(sig))
        ms = clips(logmel(mix)) if mix is not None else [None] * len(cs)
        for c, cm in zip(cs, ms):
            for k, f in summaries(c).items():
                X, ys, ss = data.setdefault((k, r["split"]), ([], [], []))
                X.append(f)
                ys.append(r["singer"])
                ss.append(r["song"])
            if cm is not None:
                X, ys, ss = data.setdefault(("ms(sep)+ms(mix)", r["split"]), ([], [], []))
                X.append(np.concatenate([summaries(c)["ms"], summaries(cm)["ms"]]))
                ys.append(r["singer"])
                ss.append(r["song"])
        if i % 100 == 0:
            print(f"{i} recordings", file=sys.stderr)

    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    classifiers = {
        "logreg C=0.1": lambda: LogisticRegression(C=0.1, max_iter=3000),
        "logreg C=1": lambda: LogisticRegression(C=1.0, max_iter=3000),
        "svm rbf C=10": lambda: SVC(C=10.0, gamma="scale"),
        "mlp 256": lambda: MLPClassifier((256,), alpha=1e-2, max_iter=500, random_state=0),
    }
    print("| summary | dims | classifier | val clip acc | val songs |")
    print("|---|---|---|---|---|")
    for k in sorted({k for k, _ in data}):
        if args.only and k not in args.only.split(","):
            continue
        Xtr, ytr, _ = data[(k, "train")]
        Xva, yva, sva = data[(k, "val")]
        scaler = StandardScaler().fit(np.array(Xtr))
        Xtr, Xva = scaler.transform(np.array(Xtr)), scaler.transform(np.array(Xva))
        for name, make in classifiers.items():
            pred = make().fit(Xtr, ytr).predict(Xva)
            clip = float(np.mean(pred == np.array(yva)))
            votes = {}
            for p, t, s in zip(pred, yva, sva):
                votes.setdefault(s, (t, []))[1].append(p)
            right = sum(max(set(ps), key=ps.count) == t for t, ps in votes.values())
            print(f"| {k} | {Xtr.shape[1]} | {name} | {100 * clip:.1f} % | {right}/{len(votes)} |",
                  flush=True)


if __name__ == "__main__":
    main()
