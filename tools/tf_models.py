#!/usr/bin/env python3
"""CRNN and CRNN_FGNL in TensorFlow / Keras (tf_keras), the engine the FGNL authors trained with.

Keras rebuilds of the two models singerid implements in `crates/models`, written from the
behaviours listed in `shared/reference/keras/README.md` (layer sequence, shapes, the FGNL layer's
query-axis softmax, roll direction, MoSE and W_z, GRU reset_after with a sigmoid gate), with the
reference's parameter counts (394,516 and 584,141; asserted). The weights are random: this script
exists for `bench/models_vs_peers.py`, which times it beside `tools/torch_models.py` and
`target/release/models`. `check` loads the reference fixtures' weights into these models and
compares the softmax output with the stored one, so that the timed graph is the authors' graph.
It is a reference, never part of the product.

Layout is channels_last, as in Keras: inputs are `(batch, mels=128, frames, 1)`. A training step
is one `tf.function` (forward in training mode, softmax cross-entropy plus the model's
regularisation losses, backward, Adam lr 1e-4, eps 1e-7), which is what `Model.fit` compiles;
XLA is not used (tf_keras' default). Inference is a `tf.function` of the forward pass in
inference mode.

Usage (in an environment with `bench/requirements.txt`):
    python3 tools/tf_models.py count
    python3 tools/tf_models.py check            # against ../shared/reference/keras
    python3 tools/tf_models.py bench --model crnn-fgnl --frames 94 --mode train --batch 16 \
        --warmup 2 --reps 10 --threads 2

`bench` prints one JSON object on stdout (step times in seconds, parameter count, threads,
memory); progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["TF_USE_LEGACY_KERAS"] = "1"

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf_keras as keras  # noqa: E402
from tf_keras import layers  # noqa: E402

from peer_bench import (  # noqa: E402
    ADAM_EPS, ADAM_LR, BLOCK_DROPOUT, BN_EPS, CLASSES, EXPECTED_PARAMS, FGNL_REDUCTION, GAUSSIAN_SIGMA, GAUSSIAN_SIZE, GRU_UNITS, HEAD_DROPOUT, MELS, MOSE_HIDDEN,
    print_count, report, run_cli, time_steps,
)

BN_MOMENTUM = 0.99
REFERENCE = Path(__file__).resolve().parent.parent.parent / "shared" / "reference" / "keras"


def gaussian_kernel(channels: int) -> np.ndarray:
    """OpenCV's getGaussianKernel(5, 0.707) as a separable 5x5 kernel, float64 then float32,
    shaped for DepthwiseConv2D: (5, 5, channels, 1)."""
    centre = (GAUSSIAN_SIZE - 1) / 2
    g = np.array([math.exp(-((i - centre) ** 2) / (2 * GAUSSIAN_SIGMA**2)) for i in range(GAUSSIAN_SIZE)])
    g = g / g.sum()
    kernel = np.outer(g, g).astype(np.float32)
    return np.repeat(kernel[:, :, None, None], channels, axis=2)


def conv_block(x, filters: int, pool: tuple[int, int] | None):
    """Conv 3x3 'same' -> ELU -> BN over channels -> [MaxPool] -> Dropout 0.1."""
    x = layers.Conv2D(filters, 3, padding="same")(x)
    x = layers.ELU()(x)
    x = layers.BatchNormalization(axis=3, epsilon=BN_EPS, momentum=BN_MOMENTUM)(x)
    if pool is not None:
        x = layers.MaxPooling2D(pool, strides=pool)(x)
    return layers.Dropout(BLOCK_DROPOUT)(x)


def projection(x, reduced: int):
    """1x1 conv C -> Cr, the fixed Gaussian filter, then positions flattened row-major: (N, Cr)."""
    x = layers.Conv2D(reduced, 1)(x)
    x = layers.DepthwiseConv2D(
        GAUSSIAN_SIZE,
        padding="same",
        use_bias=False,
        trainable=False,
        depthwise_initializer=keras.initializers.Constant(gaussian_kernel(reduced)),
    )(x)
    return layers.Reshape((-1, reduced))(x)


def fgnl(x4, x3):
    """The FGNL layer on X4 with keys and values from [X4, X3] (README, behaviour 9)."""
    height, width, channels = x4.shape[1:]
    reduced = channels // FGNL_REDUCTION
    shifts = reduced
    theta = projection(x4, reduced)
    phi = layers.Concatenate(axis=1)([projection(x4, reduced), projection(x3, reduced)])
    g = layers.Concatenate(axis=1)([projection(x4, reduced), projection(x3, reduced)])
    responses = []
    for k in range(shifts):
        phi_k = layers.Lambda(lambda t, k=k: tf.roll(t, shift=k, axis=2))(phi)
        scores = layers.Dot(axes=2)([theta, phi_k])  # (N, M)
        attention = layers.Softmax(axis=1)(scores)  # over the query axis
        y = layers.Dot(axes=(2, 1))([attention, g])  # (N, Cr)
        responses.append(layers.Reshape((-1, reduced, 1))(y))
    r = layers.Concatenate(axis=3)(responses)  # (N, Cr, K)
    # MoSE: the same scalar MLP 1 -> 16 -> 1 (1x1 convolutions) on each response's mean.
    s = layers.Lambda(lambda t: tf.reduce_mean(t, axis=[1, 2]))(r)  # (K,)
    s = layers.Reshape((shifts, 1, 1))(s)
    v = layers.Conv2D(MOSE_HIDDEN, 1, activation="relu")(s)
    v = layers.Conv2D(1, 1)(v)
    omega = layers.Softmax(axis=1)(layers.Reshape((shifts,))(v))
    omega = layers.Reshape((1, 1, shifts))(omega)
    r = layers.Multiply()([r, omega])
    y = layers.Reshape((height, width, reduced * shifts))(r)
    y = layers.Conv2D(channels, 1)(y)  # W_z, no BN
    return layers.Add()([x4, y])


def build(name: str, frames: int) -> keras.Model:
    """`crnn` (Nasrullah's CRNN2D, TF2 GRU defaults) or `crnn-fgnl` (the FGNL authors' model)."""
    mel = keras.Input((MELS, frames, 1))
    x = layers.BatchNormalization(axis=1, epsilon=BN_EPS, momentum=BN_MOMENTUM)(mel)
    if name == "crnn":
        pools = [(2, 2), (4, 2), (4, 2), (4, 2)]
    else:
        pools = [None, (2, 2), (2, 2), (2, 2)]
    blocks = []
    for filters, pool in zip([64, 128, 128, 128], pools):
        x = conv_block(x, filters, pool)
        blocks.append(x)
    dense_args = {}
    if name == "crnn-fgnl":
        x = fgnl(blocks[3], blocks[2])
        dense_args = {
            "kernel_regularizer": keras.regularizers.l2(0.01),
            "activity_regularizer": keras.regularizers.l1(0.01),
        }
    freq, steps, channels = x.shape[1:]
    x = layers.Permute((2, 1, 3))(x)
    x = layers.Reshape((steps, freq * channels))(x)
    x = layers.GRU(GRU_UNITS, return_sequences=True)(x)
    x = layers.GRU(GRU_UNITS)(x)
    x = layers.Dropout(HEAD_DROPOUT)(x)
    x = layers.Dense(CLASSES, **dense_args)(x)
    probs = layers.Activation("softmax")(x)
    model = keras.Model(mel, probs)
    n = model.count_params()
    assert n == EXPECTED_PARAMS[name], f"{name}: {n} parameters, expected {EXPECTED_PARAMS[name]}"
    return model


def check() -> int:
    """Loads each fixture's weights (matched by layer class and creation order) and compares the
    softmax output on the fixture's input."""
    from safetensors.numpy import load_file

    worst = 0.0
    for name, stem in [("crnn", "crnn_T157"), ("crnn-fgnl", "crnn_fgnl_T157")]:
        graph = json.loads((REFERENCE / f"{stem}_layers.json").read_text())
        weights = load_file(str(REFERENCE / f"{stem}.safetensors"))
        io = load_file(str(REFERENCE / f"{stem}_io.safetensors"))
        model = build(name, graph["T"])
        theirs = [layer for layer in graph["layers"] if layer.get("weights")]
        ours = [layer for layer in model.layers if layer.weights]
        assert len(theirs) == len(ours), f"{name}: {len(theirs)} layers with weights, we have {len(ours)}"
        for their, our in zip(theirs, ours):
            assert their["class"] == type(our).__name__, f"{their['name']} is a {their['class']}, ours a {our}"
            values = [weights[w["key"]] for w in their["weights"]]
            our.set_weights(values)
        probs = model(io["input"], training=False).numpy()
        diff = float(np.abs(probs - io["probs"]).max())
        worst = max(worst, diff)
        print(f"{name}: max |probs - reference| = {diff:.3e} (probs[0, :3] = {probs[0, :3]})")
    return 0 if worst < 1e-5 else 1


def bench(args: argparse.Namespace) -> dict:
    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    keras.utils.set_random_seed(args.seed)
    model = build(args.model, args.frames)
    rng = np.random.default_rng(args.seed)
    # stands in for log-mel dB values
    mel = tf.constant(rng.standard_normal((args.batch, MELS, args.frames, 1), dtype=np.float32) * 20.0)
    labels = tf.constant(rng.integers(0, CLASSES, args.batch))
    if args.mode == "train":
        optimizer = keras.optimizers.Adam(learning_rate=ADAM_LR, epsilon=ADAM_EPS)
        cross_entropy = keras.losses.SparseCategoricalCrossentropy()

        @tf.function
        def train_step():
            with tf.GradientTape() as tape:
                loss = cross_entropy(labels, model(mel, training=True))
                loss += tf.add_n(model.losses) if model.losses else 0.0
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
            return loss

        def step() -> None:
            train_step().numpy()

    else:

        @tf.function
        def infer():
            return tf.reduce_sum(model(mel, training=False))

        def step() -> None:
            infer().numpy()

    times, setup = time_steps(step, args, "tf")
    threads = {
        "threads": tf.config.threading.get_intra_op_parallelism_threads(),
        "interop_threads": tf.config.threading.get_inter_op_parallelism_threads(),
    }
    engine = f"TensorFlow {tf.__version__} CPU (tf_keras {keras.__version__})"
    return report(args, "tf", engine, model.count_params(), threads, times, setup)


def count() -> int:
    for name in sorted(EXPECTED_PARAMS):
        model = build(name, 157)
        trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
        print_count(name, model.count_params(), trainable)
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(__doc__, count, bench, check))
