"""CREPE inference speed: singerid's CREPE against torchcrepe 0.0.24 (PyTorch) on the same
signal, capacity, hop, batch and thread count (issue 14; bench/RESULTS.md).

Both sides take the first --seconds of a song's channel mix at 16 kHz (decoded and resampled by
singerid's `crepe` bench binary, which writes it to a WAV for this script), cut it into
normalised 1024-sample frames every --hop samples (centred) and compute the 360 activations per
frame, --batch frames per network call. Decoding is not timed. Runs alternate sides, --reps
times each (each a fresh process, one warm-up inside); medians are reported with their ratio.

Usage (repository root, after `cargo build --release -p singerid-bench`):
    python bench/crepe_vs_torch.py --capacity tiny --threads 2
Needs: pip install torchcrepe==0.0.24 torch soundfile (tools/requirements.txt).
"""

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import sys
import time


def torch_side(wav, capacity, hop, batch, threads, reps):
    import soundfile as sf
    import torch
    import torchcrepe

    torch.set_num_threads(threads)
    audio, rate = sf.read(wav, dtype="float32")
    assert rate == 16000, rate
    x = torch.from_numpy(audio)[None]

    def run():
        with torch.no_grad():
            out = [torchcrepe.infer(frames, capacity)
                   for frames in torchcrepe.preprocess(x, 16000, hop, batch, "cpu", pad=True)]
            return torch.cat(out).sum().item()

    run()  # warm-up (loads the weights)
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--capacity", default="tiny", choices=["tiny", "full"])
    ap.add_argument("--song", default="../shared/data/songs/karissa_hobbs-lets_go_fishin.ogg")
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--hop", type=int, default=160)
    ap.add_argument("--batch", type=int, default=512)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3, help="alternating process pairs")
    ap.add_argument("--reps", type=int, default=3, help="timed repetitions per process")
    ap.add_argument("--torch-only", metavar="WAV", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.torch_only:
        print(json.dumps({"infer_s": torch_side(args.torch_only, args.capacity, args.hop,
                                                args.batch, args.threads, args.reps)}))
        return
    binary = os.path.join("target", "release", "crepe")
    env = dict(os.environ, RAYON_NUM_THREADS=str(args.threads), OMP_NUM_THREADS=str(args.threads))
    ours, theirs = [], []
    with tempfile.TemporaryDirectory() as tmp:
        wav = os.path.join(tmp, "signal.wav")
        common = ["--capacity", args.capacity, "--song", args.song, "--seconds", str(args.seconds),
                  "--hop", str(args.hop), "--batch", str(args.batch), "--reps", str(args.reps),
                  "--json"]
        for round_ in range(args.rounds):
            extra = ["--write-wav", wav] if round_ == 0 else []
            out = subprocess.run([binary, *common, *extra], env=env, check=True,
                                 capture_output=True, text=True).stdout
            mine = json.loads(out)
            ours.append(mine["infer_s"])
            out = subprocess.run([sys.executable, __file__, "--torch-only", wav, "--capacity",
                                  args.capacity, "--hop", str(args.hop), "--batch",
                                  str(args.batch), "--threads", str(args.threads), "--reps",
                                  str(args.reps)], env=env, check=True, capture_output=True,
                                 text=True).stdout
            theirs.append(json.loads(out)["infer_s"])
            print(f"round {round_ + 1}: singerid {ours[-1]:.3f} s, torchcrepe {theirs[-1]:.3f} s",
                  flush=True)
    s, t = statistics.median(ours), statistics.median(theirs)
    print(json.dumps({"capacity": args.capacity, "seconds_of_audio": mine["seconds_of_audio"],
                      "frames": mine["frames"], "hop": args.hop, "batch": args.batch,
                      "threads": args.threads, "singerid_s": s, "torchcrepe_s": t,
                      "singerid_speed_over_torchcrepe": t / s}))


if __name__ == "__main__":
    main()
