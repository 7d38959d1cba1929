#!/usr/bin/env python3
"""Write librosa reference values for the parity tests of the `singerid-audio` crate.

Usage (from the repository root):

    python3 tools/librosa_reference.py [--shared ../shared] \
        [--out crates/audio/tests/data/librosa_reference.safetensors]

Requires librosa==0.11.0, numpy, soundfile, soxr, safetensors (tools/requirements.txt).
Deterministic: no random numbers are drawn; the inputs are the real recordings under
`<shared>/data/fixtures/formats/` and a 20 s excerpt of `<shared>/data/songs/`.

What is stored (float32 unless noted; `P` names a preset: fgnl, nasrullah, choi, iclr2018):

- `decode.<input>.{head,middle,tail}`: 2048 decoded mono-mix samples at the file's own rate
  (librosa.load(sr=None, mono=True)), at offsets 0, n/2, n-2048; metadata `decode.<input>.n`, `.sr`.
- `filterbank.<P>.{index,value}`: the non-zero entries of librosa.filters.mel for the preset
  (flat int64 row-major index, float32 weight), plus `filterbank.htk.*` (fgnl with htk=True)
  and `filterbank.nonorm.*` (fgnl with norm=None).
- `stft.fgnl.head`: np.abs(librosa.stft(y))**2 of the 16 kHz clip, first 8 frames, (1025, 8).
- `native.<P>.{mel,db}`: the 16 kHz clip's decoded samples *relabelled* at the preset's rate
  (so no resampling is involved), mel power and dB, frames [0, F) and [mid, mid + F) side by
  side, shape (n_mels, 2F); metadata `.n_frames`, `.mid`, `.db_max` (max over all frames).
- `file.<input>.<P>.{mel,db}`: the same for the full pipeline librosa.load(path, sr=P.sr)
  (soxr_hq) + melspectrogram + dB. The song excerpt is decoded at 44.1 kHz, mixed to mono,
  cut to samples [30 s, 50 s), then resampled with librosa.resample (soxr_hq).
- `resample.<input>.16000.head`: the first 4096 samples of librosa.load(path, sr=16000).
"""

import argparse
import json
import pathlib

import librosa
import numpy as np
import safetensors
import safetensors.numpy
import scipy
import soundfile
import soxr

FRAMES = 20  # frames stored per slice (two slices per array)
SONG = "songs/karissa_hobbs-lets_go_fishin.ogg"
SONG_START_S, SONG_END_S = 30, 50

PRESETS = {
    "fgnl": dict(sr=16000, n_fft=2048, hop_length=512, n_mels=128, db="fgnl_db"),
    "nasrullah": dict(sr=16000, n_fft=2048, hop_length=512, n_mels=128, db="power_db"),
    "choi": dict(sr=12000, n_fft=512, hop_length=256, n_mels=96, db="fgnl_db"),
    "iclr2018": dict(sr=22050, n_fft=2048, hop_length=512, n_mels=96, db="iclr2018_db"),
}

FORMAT_INPUTS = [
    "amy_1_01.wav",
    "amy_1_01.flac",
    "amy_1_01.ogg",
    "amy_1_01.mp3",
    "amy_1_01_44k.wav",
    "amy_1_01_22k_mono.wav",
    "fsdd_0_george_0_8k_mono.wav",
]


def to_db(mel, convention):
    """The three dB conventions, as singerid defines them, over the whole array."""
    if convention == "power_db":
        return librosa.power_to_db(mel, ref=1.0, amin=1e-10, top_db=80.0)
    if convention == "fgnl_db":
        return librosa.amplitude_to_db(mel, ref=1.0, amin=1e-5, top_db=80.0)
    if convention == "iclr2018_db":
        return librosa.power_to_db(mel, ref=np.max, amin=1e-10, top_db=60.0) + 60.0
    raise ValueError(convention)


def mel_power(y, p):
    return librosa.feature.melspectrogram(
        y=y, sr=p["sr"], n_fft=p["n_fft"], hop_length=p["hop_length"], n_mels=p["n_mels"],
        window="hann", center=True, pad_mode="constant", power=2.0,
    )


def two_slices(x):
    n = x.shape[-1]
    mid = max(0, n // 2 - FRAMES // 2)
    return np.concatenate([x[..., :FRAMES], x[..., mid:mid + FRAMES]], axis=-1), mid


def store_features(tensors, meta, key, y, p):
    mel = mel_power(y, p)
    db = to_db(mel, p["db"])
    assert mel.dtype == np.float32 and db.dtype == np.float32
    mel_s, mid = two_slices(mel)
    db_s, _ = two_slices(db)
    tensors[f"{key}.mel"] = np.ascontiguousarray(mel_s)
    tensors[f"{key}.db"] = np.ascontiguousarray(db_s)
    meta[f"{key}.n_frames"] = int(mel.shape[-1])
    meta[f"{key}.mid"] = int(mid)
    meta[f"{key}.db_max"] = float(db.max())
    meta[f"{key}.n_samples"] = int(y.shape[-1])


def sparse(bank):
    flat = bank.reshape(-1)
    index = np.flatnonzero(flat)
    return index.astype(np.int64), flat[index].astype(np.float32)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", default="../shared", type=pathlib.Path)
    parser.add_argument(
        "--out", default="crates/audio/tests/data/librosa_reference.safetensors", type=pathlib.Path
    )
    args = parser.parse_args()
    data = args.shared / "data"
    formats = data / "fixtures" / "formats"
    tensors, meta = {}, {}

    # Decode stage.
    for name in FORMAT_INPUTS:
        y, sr = librosa.load(formats / name, sr=None, mono=True)
        n = y.shape[-1]
        tensors[f"decode.{name}.head"] = y[:2048].copy()
        tensors[f"decode.{name}.middle"] = y[n // 2:n // 2 + 2048].copy()
        tensors[f"decode.{name}.tail"] = y[n - 2048:].copy()
        meta[f"decode.{name}.n"] = int(n)
        meta[f"decode.{name}.sr"] = int(sr)

    # Mel filterbanks.
    banks = {name: dict(sr=p["sr"], n_fft=p["n_fft"], n_mels=p["n_mels"]) for name, p in PRESETS.items()}
    for name, b in banks.items():
        index, value = sparse(librosa.filters.mel(**b))
        tensors[f"filterbank.{name}.index"], tensors[f"filterbank.{name}.value"] = index, value
    fg = banks["fgnl"]
    for tag, kwargs in [("htk", dict(htk=True)), ("nonorm", dict(norm=None))]:
        index, value = sparse(librosa.filters.mel(**fg, **kwargs))
        tensors[f"filterbank.{tag}.index"], tensors[f"filterbank.{tag}.value"] = index, value

    # STFT stage on the 16 kHz clip (mono mix).
    clip, clip_sr = librosa.load(formats / "amy_1_01.wav", sr=None, mono=True)
    assert clip_sr == 16000
    stft = librosa.stft(clip, n_fft=2048, hop_length=512, window="hann", center=True, pad_mode="constant")
    tensors["stft.fgnl.head"] = np.ascontiguousarray((np.abs(stft) ** 2)[:, :8])
    stft_r = librosa.stft(clip, n_fft=2048, hop_length=512, window="hann", center=True, pad_mode="reflect")
    tensors["stft.fgnl_reflect.head"] = np.ascontiguousarray((np.abs(stft_r) ** 2)[:, :8])

    # Mel + dB without resampling: the clip's samples relabelled at each preset's rate.
    for name, p in PRESETS.items():
        store_features(tensors, meta, f"native.{name}", clip, p)

    # Vocal-only (right channel) at 16 kHz, fgnl.
    stereo, _ = librosa.load(formats / "amy_1_01.wav", sr=None, mono=False)
    store_features(tensors, meta, "channel_right.fgnl", stereo[1], PRESETS["fgnl"])

    # The full pipeline from files, with librosa's soxr_hq resampling where rates differ.
    for name in FORMAT_INPUTS:
        for preset, p in PRESETS.items():
            y, _ = librosa.load(formats / name, sr=p["sr"], mono=True)
            store_features(tensors, meta, f"file.{name}.{preset}", y, p)
    for name in ["amy_1_01_44k.wav", "amy_1_01_22k_mono.wav", "fsdd_0_george_0_8k_mono.wav"]:
        y, _ = librosa.load(formats / name, sr=16000, mono=True)
        tensors[f"resample.{name}.16000.head"] = y[:4096].copy()
        meta[f"resample.{name}.16000.n"] = int(y.shape[-1])

    song, song_sr = librosa.load(data / SONG, sr=None, mono=True)
    excerpt = song[SONG_START_S * song_sr:SONG_END_S * song_sr]
    meta["song.path"] = SONG
    meta["song.sr"] = int(song_sr)
    meta["song.start_sample"] = SONG_START_S * song_sr
    meta["song.end_sample"] = SONG_END_S * song_sr
    meta["song.n_decoded"] = int(song.shape[-1])
    tensors["song.excerpt_head"] = excerpt[:2048].copy()
    for preset, p in PRESETS.items():
        y = librosa.resample(excerpt, orig_sr=song_sr, target_sr=p["sr"], res_type="soxr_hq")
        store_features(tensors, meta, f"song.{preset}", y, p)

    header = {
        "generator": "tools/librosa_reference.py",
        "librosa": librosa.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "soundfile": soundfile.__version__,
        "libsndfile": soundfile.__libsndfile_version__,
        "soxr": soxr.__version__,
        "safetensors": safetensors.__version__,
        "frames_per_slice": FRAMES,
        "presets": PRESETS,
        "seed": "none (deterministic inputs)",
    }
    metadata = {"header": json.dumps(header, sort_keys=True), "values": json.dumps(meta, sort_keys=True)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    safetensors.numpy.save_file(tensors, str(args.out), metadata=metadata)
    total = sum(t.nbytes for t in tensors.values())
    print(f"wrote {args.out}: {len(tensors)} tensors, {total / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
