#!/usr/bin/env python3
"""Why does the identifier on separated vocals lag the clean voice? A diagnostic, not the product.

Log-mel (16 kHz, n_fft 2048, hop 512, 128 Slaney mels, 10 log10, top_db 80) mean and std per
band over 3 s clips from frame 0, standardised, multinomial logistic regression (scikit-learn),
trained on the pool's train split in one vocal condition and scored on the val split in another.
Clip accuracy and song accuracy (majority of a song's clips). MIR-1K: research-only.

Conditions:
  clean   the right channel (voice stem)
  mix     (left + right) / 2
  sep     the shipped separator's vocals of the mix, read from singerid's separated cache
  irm     the ideal ratio mask |V|^2 / (|V|^2 + |A|^2) applied to the mix (STFT 1024 / 512): what a
          near-perfect separator would give
  remix   (train only) the separator's vocals of voice_i + accompaniment_j, j a random train
          recording of another singer (made with --make-remix, separated with `singerid separate`)

Usage:
  python bench/separated_mismatch.py --make-remix /tmp/diag/remix      # writes stereo wavs
  singerid separate /tmp/diag/remix --out /tmp/diag/remix-sep
  python bench/separated_mismatch.py --remix-sep /tmp/diag/remix-sep
"""
import argparse
import csv
import os
import sys

import numpy as np

DATA = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "mir1k")
CACHE = os.path.join(os.path.dirname(__file__), "..", "target", "singerid-features", "separated")
SR = 16000


def rows():
    with open(os.path.join(DATA, "metadata.csv"), newline="") as f:
        return [{k: v.strip() for k, v in r.items()} for r in csv.DictReader(f)]


def stereo(path):
    import librosa

    y, _ = librosa.load(os.path.join(DATA, path), sr=SR, mono=False)
    return y  # (2, n): left accompaniment, right voice


def separated(path, sep_id):
    import blake3
    import soundfile as sf

    h = blake3.blake3(open(os.path.join(DATA, path), "rb").read()).hexdigest()[:32]
    y, sr = sf.read(os.path.join(CACHE, sep_id, h + ".wav"), dtype="float32")
    assert sr == SR
    return y


def irm(y):
    import librosa

    v = librosa.stft(y[1] / 2, n_fft=1024, hop_length=512)
    a = librosa.stft(y[0] / 2, n_fft=1024, hop_length=512)
    pv, pa = np.abs(v) ** 2, np.abs(a) ** 2
    mask = pv / np.maximum(pv + pa, 1e-12)
    return librosa.istft(mask * (v + a), hop_length=512, length=y.shape[1])


def clip_features(y):
    import librosa

    m = librosa.feature.melspectrogram(y=y, sr=SR, n_fft=2048, hop_length=512, n_mels=128)
    db = librosa.power_to_db(m, ref=np.max, top_db=80.0)
    out = []
    for start in range(0, db.shape[1] - 94 + 1, 94):
        c = db[:, start : start + 94]
        out.append(np.concatenate([c.mean(1), c.std(1)]))
    return out


def make_remix(out_dir, seed=0):
    import soundfile as sf

    rng = np.random.default_rng(seed)
    train = [r for r in rows() if r["split"] == "train"]
    os.makedirs(out_dir, exist_ok=True)
    cache = {}

    def load(p):
        if p not in cache:
            cache[p] = stereo(p)
        return cache[p]

    for i, r in enumerate(train):
        others = [o for o in train if o["singer"] != r["singer"]]
        o = others[rng.integers(len(others))]
        voice = load(r["path"])[1]
        acc = load(o["path"])[0]
        acc = np.resize(acc, voice.shape)  # repeats a short accompaniment
        g_v, g_a = rng.uniform(0.25, 1.25, size=2)
        name = os.path.splitext(os.path.basename(r["path"]))[0] + ".wav"
        sf.write(os.path.join(out_dir, name), np.stack([g_a * acc, g_v * voice], 1), SR,
                 subtype="FLOAT")
        if i % 100 == 0:
            print(f"remix {i}/{len(train)}", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--make-remix")
    ap.add_argument("--remix-sep")
    ap.add_argument("--sep-id", default=None)
    args = ap.parse_args()
    if args.make_remix:
        make_remix(args.make_remix)
        return
    sep_id = args.sep_id or sorted(os.listdir(CACHE))[0]
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler
    import soundfile as sf

    data = {}  # (condition, split) -> (X, singers, songs)
    for r in rows():
        y = stereo(r["path"])
        conds = {"clean": y[1], "mix": y.mean(0), "sep": separated(r["path"], sep_id),
                 "irm": irm(y)}
        if args.remix_sep and r["split"] == "train":
            stem = os.path.splitext(os.path.basename(r["path"]))[0]
            v, _ = sf.read(os.path.join(args.remix_sep, stem, "vocals.wav"), dtype="float32")
            conds["remix"] = v.mean(1) if v.ndim == 2 else v
        for c, sig in conds.items():
            for f in clip_features(sig):
                X, ys, ss = data.setdefault((c, r["split"]), ([], [], []))
                X.append(f)
                ys.append(r["singer"])
                ss.append(r["song"])

    def fit(train_conds, C=1.0):
        X = np.concatenate([np.array(data[(c, "train")][0]) for c in train_conds])
        y = sum((data[(c, "train")][1] for c in train_conds), [])
        scaler = StandardScaler().fit(X)
        clf = LogisticRegression(C=C, max_iter=3000).fit(scaler.transform(X), y)
        return scaler, clf

    def score(model, cond):
        scaler, clf = model
        X, y, songs = data[(cond, "val")]
        pred = clf.predict(scaler.transform(np.array(X)))
        clip = float(np.mean(pred == np.array(y)))
        votes = {}
        for p, t, s in zip(pred, y, songs):
            votes.setdefault(s, (t, []))[1].append(p)
        right = sum(max(set(ps), key=ps.count) == t for t, ps in votes.values())
        return clip, right, len(votes)

    train_sets = [["clean"], ["mix"], ["sep"], ["sep", "clean"], ["sep", "mix"]]
    train_sets += [["irm"]]
    if args.remix_sep:
        train_sets += [["remix"], ["sep", "remix"], ["sep", "remix", "clean"]]
    print("| train on | C | val clean | val mix | val sep | val irm |")
    print("|---|---|---|---|---|---|")
    for ts in train_sets:
        for C in (0.01, 0.1, 1.0):
            model = fit(ts, C)
            cells = []
            for cond in ("clean", "mix", "sep", "irm"):
                clip, right, n = score(model, cond)
                cells.append(f"{100 * clip:.1f} % ({right}/{n})")
            print(f"| {' + '.join(ts)} | {C} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
