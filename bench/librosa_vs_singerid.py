#!/usr/bin/env python3
"""Features vs librosa: time librosa 0.11 and singerid side by side on the same 10 minutes of audio.

Usage (from the repository root):

    python3 bench/librosa_vs_singerid.py [--shared ../shared] [--minutes 10] [--repeat 2]

1. Builds 10 minutes of real audio in a temporary directory by concatenating the songs in
   `<shared>/data/songs/` (decoded at their native 44.1 kHz stereo with soundfile, repeated
   until long enough), written as 16-bit WAV and encoded to MP3 (128 kbit/s) with `lame` or
   `ffmpeg`. Nothing is installed: if neither encoder is on PATH the MP3 case is skipped with
   a message saying how to install one.
2. librosa (single process): `librosa.load(path, sr=16000)` (soundfile; mpg123 for MP3;
   soxr_hq resampling), `librosa.feature.melspectrogram(n_fft=2048, hop_length=512,
   n_mels=128)`, `librosa.amplitude_to_db(top_db=80)`: the fgnl preset. Fastest of --repeat.
3. singerid: `cargo build --release -p singerid-bench --bin features`, then
   `target/release/features --preset fgnl --json --repeat N FILE` (one file at a time,
   single-threaded), which also reports the time per stage.
4. Prints seconds of audio per second for each, and singerid's speed-up.
"""

import argparse
import json
import os
import pathlib
import platform
import shutil
import subprocess
import sys
import tempfile
import time

import librosa
import numpy as np
import soundfile

SR = 16000
N_FFT, HOP, N_MELS = 2048, 512, 128


def make_audio(songs_dir, minutes, out_dir):
    songs = sorted(p for p in songs_dir.iterdir() if p.suffix in (".mp3", ".ogg", ".wav", ".flac"))
    if not songs:
        sys.exit(f"no songs in {songs_dir}")
    target_rate, pieces, total = None, [], 0
    need = int(minutes * 60)
    while total < need * (target_rate or 44100):
        for song in songs:
            y, rate = soundfile.read(song, dtype="float32", always_2d=True)
            if target_rate is None:
                target_rate = rate
            if rate != target_rate:
                continue  # concatenate only songs at one native rate, no resampling here
            pieces.append(y)
            total += y.shape[0]
            if total >= need * target_rate:
                break
    audio = np.concatenate(pieces)[: need * target_rate]
    wav = out_dir / "bench_10min.wav"
    soundfile.write(wav, audio, target_rate, subtype="PCM_16")
    files = {"wav": wav}
    mp3 = out_dir / "bench_10min.mp3"
    if shutil.which("lame"):
        cmd = ["lame", "--quiet", "-b", "128", str(wav), str(mp3)]
    elif shutil.which("ffmpeg"):
        cmd = ["ffmpeg", "-loglevel", "error", "-y", "-i", str(wav), "-b:a", "128k", str(mp3)]
    else:
        cmd = None
        print(
            "NOTE: no MP3 encoder found (lame or ffmpeg); the MP3 case is skipped.\n"
            "      Install one, e.g. `apt-get install -y lame`, and re-run.",
            file=sys.stderr,
        )
    if cmd:
        print("encoding MP3:", " ".join(cmd), file=sys.stderr)
        subprocess.run(cmd, check=True)
        files["mp3"] = mp3
    return files, audio.shape[0] / target_rate, target_rate


def librosa_features(path):
    y, sr = librosa.load(path, sr=SR)
    mel = librosa.feature.melspectrogram(y=y, sr=sr, n_fft=N_FFT, hop_length=HOP, n_mels=N_MELS)
    return librosa.amplitude_to_db(mel, top_db=80.0)


def time_librosa(path, repeat):
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        features = librosa_features(path)
        best = min(best, time.perf_counter() - start)
    return best, features.shape


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", default="../shared", type=pathlib.Path)
    parser.add_argument("--minutes", default=10.0, type=float)
    parser.add_argument("--repeat", default=2, type=int)
    args = parser.parse_args()
    repo = pathlib.Path(__file__).resolve().parent.parent

    build = ["cargo", "build", "--release", "-p", "singerid-bench", "--bin", "features"]
    print("building:", " ".join(build), file=sys.stderr)
    subprocess.run(build, check=True, cwd=repo)
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", repo / "target"))
    binary = target / "release" / "features"

    with tempfile.TemporaryDirectory(prefix="singerid-bench-") as tmp:
        files, audio_s, rate = make_audio(args.shared / "data" / "songs", args.minutes, pathlib.Path(tmp))
        print(f"audio: {audio_s:.0f} s at {rate} Hz stereo", file=sys.stderr)
        # Warm up librosa (imports, numba, FFT plans) on a short excerpt.
        librosa_features(args.shared / "data" / "fixtures" / "formats" / "amy_1_01.wav")
        rows = []
        for kind, path in files.items():
            lib_s, lib_shape = time_librosa(path, args.repeat)
            out = subprocess.run(
                [str(binary), "--preset", "fgnl", "--json", "--repeat", str(args.repeat + 1), str(path)],
                check=True, capture_output=True, text=True,
            ).stdout
            ours = json.loads(out.strip().splitlines()[-1])
            assert (ours["n_mels"], ours["n_frames"]) == tuple(lib_shape), (ours, lib_shape)
            rows.append((kind, lib_s, ours))

    print(f"\nFeatures vs librosa: fgnl preset, {audio_s:.0f} s of audio, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, librosa {librosa.__version__}")
    print(f"{'input':6} {'librosa s':>10} {'audio s/s':>10} {'singerid s':>11} {'audio s/s':>10} {'speed-up':>9}")
    for kind, lib_s, ours in rows:
        s = ours["seconds"]["end_to_end"]
        print(f"{kind:6} {lib_s:10.3f} {audio_s / lib_s:10.0f} {s:11.3f} {audio_s / s:10.0f} {lib_s / s:8.1f}x")
    print("\nsingerid per stage (s, fastest run):")
    for kind, _, ours in rows:
        st = ours["seconds"]
        print(f"  {kind}: decode+mix {st['decode']:.3f}, resample {st['resample']:.3f}, "
              f"stft+mel {st['stft_mel']:.3f}, dB {st['db']:.3f}")


if __name__ == "__main__":
    main()
