"""Open-Unmix inference speed: singerid's Separator against openunmix 1.3.0 (PyTorch) on the
same model size, input and thread count (issue 12; bench/RESULTS.md).

Both sides separate the same mono 16 kHz signal (a real song, decoded and resampled by
singerid's `separator` bench binary, which also writes it to a WAV file for this script): STFT
(n_fft 1024, hop 512), the network with random weights in inference mode, the Wiener-style mask
on the complex mixture, inverse STFT. Runs alternate sides, `--reps` times each; medians are
reported with their ratio.

Usage (repository root, after `cargo build --release -p singerid-bench`):
    python bench/separator_vs_torch.py --song ../shared/data/songs/karissa_hobbs-lets_go_fishin.ogg
Needs: pip install openunmix==1.3.0 torch==2.15.0 soundfile (tools/requirements.txt).
"""

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time


def torch_side(wav, hidden, layers, threads):
    import numpy as np
    import soundfile as sf
    import torch
    from openunmix.model import OpenUnmix

    torch.set_num_threads(threads)
    audio, rate = sf.read(wav, dtype="float32")
    assert rate == 16000, rate
    model = OpenUnmix(nb_bins=513, nb_channels=1, hidden_size=hidden, nb_layers=layers,
                      max_bin=513).eval()
    window = torch.hann_window(1024)
    x = torch.from_numpy(np.ascontiguousarray(audio))

    def run():
        with torch.no_grad():
            spec = torch.stft(x, 1024, 512, window=window, center=True, pad_mode="reflect",
                              return_complex=True)  # [513, T]
            mag = spec.abs()
            v = model(mag[None, None])[0, 0]  # [513, T]
            r = torch.relu(mag - v)
            gain = v * v / (v * v + r * r + 1e-20)
            return torch.istft(spec * gain, 1024, 512, window=window, center=True,
                               length=x.shape[0])

    run()  # warm-up
    start = time.perf_counter()
    run()
    return time.perf_counter() - start, len(audio) / rate


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--song", required=True)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--layers", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    env = dict(os.environ, RAYON_NUM_THREADS=str(args.threads))
    with tempfile.TemporaryDirectory() as tmp:
        wav = os.path.join(tmp, "song16k.wav")
        ours, theirs = [], []
        duration = None
        for _ in range(args.reps):
            out = subprocess.run(
                ["target/release/separator", "--hidden", str(args.hidden), "--layers",
                 str(args.layers), "--song", args.song, "--write-wav", wav, "--json", "--reps",
                 "1"],
                check=True, capture_output=True, text=True, env=env)
            record = json.loads(out.stdout)
            ours.append(record["separate_s"])
            t, duration = torch_side(wav, args.hidden, args.layers, args.threads)
            theirs.append(t)
    o, t = statistics.median(ours), statistics.median(theirs)
    print(json.dumps({
        "song": args.song, "seconds_of_audio": duration, "hidden": args.hidden,
        "layers": args.layers, "threads": args.threads, "reps": args.reps,
        "singerid_s": o, "pytorch_s": t, "singerid_over_pytorch": o / t,
        "singerid_fraction_of_duration": o / duration,
        "pytorch_fraction_of_duration": t / duration,
    }, indent=2))


if __name__ == "__main__":
    main()
