"""Reference fixture for singerid's Open-Unmix port (issue 12, item 1).

Builds a small `openunmix.model.OpenUnmix` (openunmix 1.3.0, PyTorch) with every parameter and
buffer randomised (batch-norm running statistics and the input/output mean/scale included, so
identity normalisation cannot pass the test), runs it in eval mode on a seeded random magnitude
spectrogram, and writes one safetensors file holding

- the model's `state_dict()` under PyTorch's names (`fc1.weight`, `bn1.running_mean`,
  `bn1.num_batches_tracked`, `lstm.weight_ih_l0`, `lstm.weight_ih_l0_reverse`, `input_mean`,
  `output_scale`, ...): the layout a user gets from
  `safetensors.torch.save_file(umx.state_dict(), path)` for a pretrained target;
- `input`: the mixture magnitude `[nb_samples, nb_channels, nb_bins, nb_frames]`;
- `output`: the estimated target magnitude, same shape;
- `stage.lstm.input` / `stage.lstm.output`: the LSTM's input and output `[nb_frames,
  nb_samples, features]`, so a failing comparison can name the stage;
- metadata: the constructor sizes, the versions and the seed.

Usage (from the repository root, in a venv with tools/requirements.txt):

    python tools/open_unmix_reference.py [--out crates/models/tests/fixtures/open_unmix.safetensors]
"""

import argparse
import importlib.metadata
import pathlib

import numpy as np
import safetensors
import safetensors.torch
import torch
from openunmix.model import OpenUnmix

SEED = 20240612
N_FFT = 256
NB_BINS = N_FFT // 2 + 1  # 129
NB_CHANNELS = 2
HIDDEN_SIZE = 16
NB_LAYERS = 3
MAX_BIN = 64
UNIDIRECTIONAL = False
NB_SAMPLES = 2
NB_FRAMES = 11

DEFAULT_OUT = (
    pathlib.Path(__file__).resolve().parent.parent
    / "crates/models/tests/fixtures/open_unmix.safetensors"
)


def randomise(model: OpenUnmix, generator: torch.Generator) -> None:
    """Overwrites every parameter and buffer with seeded random values of a sane range."""

    def normal(shape, std, mean=0.0):
        return torch.randn(shape, generator=generator) * std + mean

    def uniform(shape, low, high):
        return torch.rand(shape, generator=generator) * (high - low) + low

    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            shape = tensor.shape
            if name.endswith("num_batches_tracked"):
                tensor.fill_(int(torch.randint(1, 1000, (1,), generator=generator)))
            elif name.endswith("running_var"):
                tensor.copy_(uniform(shape, 0.5, 2.0))
            elif name.endswith("running_mean"):
                tensor.copy_(normal(shape, 0.3))
            elif name.startswith("bn") and name.endswith(".weight"):
                tensor.copy_(uniform(shape, 0.5, 1.5))
            elif name.startswith("bn") and name.endswith(".bias"):
                tensor.copy_(normal(shape, 0.2))
            elif name.startswith("fc"):
                fan_in = shape[1]
                tensor.copy_(normal(shape, 1.0 / np.sqrt(fan_in)))
            elif name.startswith("lstm."):
                tensor.copy_(normal(shape, 0.4))
            elif name == "input_mean":
                # OpenUnmix stores the negated mean (x + input_mean).
                tensor.copy_(normal(shape, 0.2, mean=-0.5))
            elif name == "input_scale":
                # ... and the reciprocal scale (x * input_scale).
                tensor.copy_(uniform(shape, 0.5, 2.0))
            elif name == "output_scale":
                tensor.copy_(uniform(shape, 0.5, 1.5))
            elif name == "output_mean":
                tensor.copy_(normal(shape, 0.3, mean=0.5))
            else:
                raise SystemExit(f"unexpected state-dict entry {name}: extend randomise()")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=pathlib.Path, default=DEFAULT_OUT)
    args = parser.parse_args()

    torch.manual_seed(SEED)
    generator = torch.Generator().manual_seed(SEED)
    model = OpenUnmix(
        nb_bins=NB_BINS,
        nb_channels=NB_CHANNELS,
        hidden_size=HIDDEN_SIZE,
        nb_layers=NB_LAYERS,
        unidirectional=UNIDIRECTIONAL,
        max_bin=MAX_BIN,
    )
    randomise(model, generator)
    model.eval()

    # A magnitude spectrogram: non-negative, some bins exactly zero.
    mixture = torch.relu(
        torch.randn(NB_SAMPLES, NB_CHANNELS, NB_BINS, NB_FRAMES, generator=generator) + 0.5
    )

    stage = {}

    def keep_lstm(_module, inputs, outputs):
        stage["stage.lstm.input"] = inputs[0].detach().clone()
        stage["stage.lstm.output"] = outputs[0].detach().clone()

    model.lstm.register_forward_hook(keep_lstm)
    with torch.no_grad():
        estimate = model(mixture)

    tensors = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    tensors["input"] = mixture.contiguous()
    tensors["output"] = estimate.contiguous()
    tensors.update({k: v.contiguous() for k, v in stage.items()})
    metadata = {
        "nb_bins": str(NB_BINS),
        "nb_channels": str(NB_CHANNELS),
        "hidden_size": str(HIDDEN_SIZE),
        "nb_layers": str(NB_LAYERS),
        "max_bin": str(MAX_BIN),
        "unidirectional": str(UNIDIRECTIONAL).lower(),
        "nb_samples": str(NB_SAMPLES),
        "nb_frames": str(NB_FRAMES),
        "seed": str(SEED),
        "openunmix": importlib.metadata.version("openunmix"),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "safetensors": safetensors.__version__,
        "generator": "tools/open_unmix_reference.py",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    safetensors.torch.save_file(tensors, str(args.out), metadata=metadata)
    print(
        f"wrote {args.out} ({args.out.stat().st_size} bytes); "
        f"output range [{float(estimate.min()):.4f}, {float(estimate.max()):.4f}], "
        f"mean {float(estimate.mean()):.4f}"
    )


if __name__ == "__main__":
    main()
