#!/usr/bin/env python3
"""CRNN and CRNN_FGNL in PyTorch, the bar singerid's burn-flex models are timed against.

These are PyTorch rebuilds of the two models singerid implements in `crates/models`, with the same
shapes and the same parameter counts (394,516 and 584,141, counting BatchNorm running statistics and
the fixed Gaussian kernels as the Keras reference does). The weights are random: this script exists
for `bench/models_vs_peers.py`, which times it side by side with `target/release/models`. It is a
reference, never part of the product.

- CRNN: Nasrullah & Zhao (2019), "Music artist classification with convolutional recurrent neural
  networks", IJCNN; layer sequence of `CRNN2D` in ZainNasrullah/music-artist-classification-crnn@7e17d20
  rebuilt with TF2 GRU defaults (reset_after, sigmoid), as in `shared/reference/keras/README.md`.
- CRNN_FGNL: Kuo, Wei & Lin (2021), "Positions, Channels, and Layers: Fully Generalized Non-Local
  Network for Singer Identification", AAAI; the FGNL operation, Gaussian smoothing, MoSE (Eq. 8) and
  the residual W_z as implemented in ian-k-1217/Fully-Generalized-Non-Local-Network@939ca11
  (softmax over the query axis, MoSE 1->16->1, W_z without BN). The behaviours followed are listed
  in `shared/reference/keras/README.md`, "Behaviours a reimplementation must match".

PyTorch's `nn.GRU` is the reset_after form (two bias vectors, the reset gate multiplies the
recurrent projection including its bias), so its parameter count equals Keras' GRU(reset_after=True).
Layout is NCHW: inputs are `(batch, 1, mels=128, frames)`.

Usage:
    python3 tools/torch_models.py count
    python3 tools/torch_models.py bench --model crnn --frames 157 --mode train --batch 16 \
        --warmup 2 --reps 10 --threads 2

`bench` prints one JSON object on stdout (step times in seconds, parameter count, threads, memory);
progress goes to stderr.
"""

from __future__ import annotations

import argparse
import math
import sys

import torch
from torch import nn
import torch.nn.functional as F

from peer_bench import (
    ADAM_EPS, ADAM_LR, BLOCK_DROPOUT, BN_EPS, CLASSES, EXPECTED_PARAMS, FGNL_REDUCTION, GAUSSIAN_SIGMA, GAUSSIAN_SIZE, GRU_UNITS, HEAD_DROPOUT, MELS, MOSE_HIDDEN,
    print_count, report, run_cli, time_steps,
)

# Keras' BN momentum 0.99 in PyTorch's convention.
BN_MOMENTUM = 0.01


class ConvBlock(nn.Module):
    """Conv 3x3 'same' -> ELU -> BN -> [MaxPool] -> Dropout 0.1 (ELU before BN, as both references do)."""

    def __init__(self, in_channels: int, out_channels: int, pool: tuple[int, int] | None):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1)
        self.bn = nn.BatchNorm2d(out_channels, eps=BN_EPS, momentum=BN_MOMENTUM)
        self.pool = nn.MaxPool2d(pool) if pool is not None else nn.Identity()
        self.dropout = nn.Dropout(BLOCK_DROPOUT)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.bn(F.elu(self.conv(x)))
        return self.dropout(self.pool(x))


def gaussian_kernel_1d(size: int = GAUSSIAN_SIZE, sigma: float = GAUSSIAN_SIGMA) -> torch.Tensor:
    """OpenCV's getGaussianKernel(size, sigma), in float64 and then stored as float32."""
    centre = (size - 1) / 2
    g = torch.tensor([math.exp(-((i - centre) ** 2) / (2 * sigma**2)) for i in range(size)], dtype=torch.float64)
    return g / g.sum()


class GaussianSmoothing(nn.Module):
    """Depthwise 5x5 'same' convolution with a fixed Gaussian kernel; a buffer (non-trainable) that counts."""

    def __init__(self, channels: int):
        super().__init__()
        g = gaussian_kernel_1d()
        kernel = torch.outer(g, g).to(torch.float32)
        self.register_buffer("kernel", kernel.expand(channels, 1, GAUSSIAN_SIZE, GAUSSIAN_SIZE).clone())
        self.channels = channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.kernel, padding=GAUSSIAN_SIZE // 2, groups=self.channels)


class Projection(nn.Module):
    """1x1 convolution C -> Cr followed by the Gaussian filter, flattened to positions: (batch, H*W, Cr)."""

    def __init__(self, channels: int, reduced: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, reduced, kernel_size=1)
        self.smooth = GaussianSmoothing(reduced)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.smooth(self.conv(x))  # [batch, Cr, H, W]
        return x.flatten(2).transpose(1, 2)  # [batch, H*W, Cr], position n = h*W + w


class FgnlLayer(nn.Module):
    """The FGNL layer on X4 with keys/values from [X4, X3] (authors' code: query-axis softmax)."""

    def __init__(self, channels: int):
        super().__init__()
        reduced = channels // FGNL_REDUCTION
        self.reduced = reduced
        self.shifts = reduced
        self.theta = Projection(channels, reduced)
        self.phi4 = Projection(channels, reduced)
        self.phi3 = Projection(channels, reduced)
        self.g4 = Projection(channels, reduced)
        self.g3 = Projection(channels, reduced)
        # MoSE: the same scalar MLP 1 -> 16 -> 1 on each response's mean (1x1 convolutions in Keras).
        self.mose_hidden = nn.Linear(1, MOSE_HIDDEN)
        self.mose_out = nn.Linear(MOSE_HIDDEN, 1)
        self.w_z = nn.Conv2d(reduced * self.shifts, channels, kernel_size=1)

    def forward(self, x4: torch.Tensor, x3: torch.Tensor) -> torch.Tensor:
        batch, _, height, width = x4.shape
        theta = self.theta(x4)  # [batch, N, Cr]
        phi = torch.cat([self.phi4(x4), self.phi3(x3)], dim=1)  # [batch, M, Cr]
        g = torch.cat([self.g4(x4), self.g3(x3)], dim=1)  # [batch, M, Cr]
        responses = []
        for k in range(self.shifts):
            phi_k = torch.roll(phi, shifts=k, dims=2)  # tf.roll: channel c moves to c + k
            scores = torch.bmm(theta, phi_k.transpose(1, 2))  # [batch, N, M]
            attention = torch.softmax(scores, dim=1)  # over the query axis, as the authors' code
            responses.append(torch.bmm(attention, g))  # [batch, N, Cr]
        r = torch.stack(responses, dim=-1)  # [batch, N, Cr, K]
        s = r.mean(dim=(1, 2)).unsqueeze(-1)  # [batch, K, 1]
        v = self.mose_out(F.relu(self.mose_hidden(s))).squeeze(-1)  # [batch, K]
        omega = torch.softmax(v, dim=1)
        r = r * omega[:, None, None, :]
        y = r.reshape(batch, height, width, self.reduced * self.shifts).permute(0, 3, 1, 2)  # [batch, Cr*K, H, W]
        return x4 + self.w_z(y)


class Crnn(nn.Module):
    """Input BN over mel bins -> 4 conv blocks -> [FGNL] -> GRU 32 (seq) -> GRU 32 (last) -> Dropout -> Dense."""

    def __init__(self, pools: list[tuple[int, int] | None], fgnl: bool, mels: int = MELS, classes: int = CLASSES):
        super().__init__()
        channels = [1, 64, 128, 128, 128]
        self.input_bn = nn.BatchNorm2d(mels, eps=BN_EPS, momentum=BN_MOMENTUM)
        self.blocks = nn.ModuleList(ConvBlock(channels[i], channels[i + 1], pools[i]) for i in range(4))
        self.fgnl = FgnlLayer(channels[4]) if fgnl else None
        out_mels = mels
        for pool in pools:
            out_mels //= pool[0] if pool is not None else 1
        self.gru1 = nn.GRU(out_mels * channels[4], GRU_UNITS, batch_first=True)
        self.gru2 = nn.GRU(GRU_UNITS, GRU_UNITS, batch_first=True)
        self.dropout = nn.Dropout(HEAD_DROPOUT)
        self.dense = nn.Linear(GRU_UNITS, classes)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        x = self.input_bn(mel.transpose(1, 2)).transpose(1, 2)  # statistics per mel bin: [batch, 1, mels, frames]
        x3 = None
        for block in self.blocks:
            x3, x = x, block(x)
        if self.fgnl is not None:
            x = self.fgnl(x, x3)  # [batch, 128, H4, W4]
        batch, channels, mels, frames = x.shape
        x = x.permute(0, 3, 2, 1).reshape(batch, frames, mels * channels)  # feature index f*C + c
        x, _ = self.gru1(x)  # [batch, frames', 32]
        _, h = self.gru2(x)  # [1, batch, 32]
        return self.dense(self.dropout(h[0]))  # logits [batch, classes]


def crnn() -> Crnn:
    """Nasrullah's CRNN: pools (2,2), (4,2), (4,2), (4,2); GRU input (T', 128)."""
    return Crnn([(2, 2), (4, 2), (4, 2), (4, 2)], fgnl=False)


def crnn_fgnl() -> Crnn:
    """The authors' CRNN_FGNL: no pool in block 1, then (2,2) x3; FGNL on [X4, X3]; GRU input (T4, 16*128)."""
    return Crnn([None, (2, 2), (2, 2), (2, 2)], fgnl=True)


BUILDERS = {"crnn": crnn, "crnn-fgnl": crnn_fgnl}


def count_params(model: nn.Module) -> int:
    """Parameters plus BN running statistics and fixed kernels (not `num_batches_tracked`), as Keras counts."""
    params = sum(p.numel() for p in model.parameters())
    buffers = sum(b.numel() for name, b in model.named_buffers() if not name.endswith("num_batches_tracked"))
    return params + buffers


def build(name: str) -> Crnn:
    model = BUILDERS[name]()
    n = count_params(model)
    assert n == EXPECTED_PARAMS[name], f"{name}: {n} parameters, expected {EXPECTED_PARAMS[name]}"
    return model


def bench(args: argparse.Namespace) -> dict:
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    model = build(args.model)
    mel = torch.randn(args.batch, 1, MELS, args.frames) * 20.0  # stands in for log-mel dB values
    labels = torch.randint(0, CLASSES, (args.batch,))
    if args.mode == "train":
        model.train()
        optimizer = torch.optim.Adam(model.parameters(), lr=ADAM_LR, eps=ADAM_EPS)

        def step() -> None:
            optimizer.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(mel), labels)
            loss.backward()
            optimizer.step()
            loss.item()

    else:
        model.eval()

        def step() -> None:
            with torch.inference_mode():
                model(mel).sum().item()

    times, setup = time_steps(step, args, "torch")
    threads = {"threads": torch.get_num_threads(), "interop_threads": torch.get_num_interop_threads()}
    return report(args, "torch", f"PyTorch {torch.__version__} CPU", count_params(model), threads, times, setup)


def count() -> int:
    for name in sorted(BUILDERS):
        model = BUILDERS[name]()
        trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
        print_count(name, count_params(model), trainable)
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(__doc__, count, bench))
