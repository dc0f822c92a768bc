#!/usr/bin/env python3
"""Regenerate the synthetic caller audio in audio_fixtures/audio/ from _phrases.yaml.

Each phrase is synthesized with the project's default TTS (ivr.prompts, Kokoro)
or, where that cannot load, Debian espeak-ng's ``cmn-latn-pinyin`` voice; then
shaped like a real caller: speaking rate, pitch (a tape-speed shift), added
noise at a set signal-to-noise ratio, and the telephone channel (band-limit to
8 kHz and a G.711 mu-law round trip, stored as a mu-law WAV like a PBX writes).
Noise comes from a seeded generator, so a rerun writes the same files for the
same TTS output.

    python audio_fixtures/make_fixtures.py            # only missing files
    python audio_fixtures/make_fixtures.py --force    # everything
    python audio_fixtures/make_fixtures.py --tts espeak
"""
from __future__ import annotations

import argparse
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

import numpy as np
import yaml

HERE = Path(__file__).resolve().parent
OUT = HERE / "audio"
WAVE_MULAW = 7


def espeak_synthesize(text: str, speed: float) -> tuple[np.ndarray, int]:
    """Debian espeak-ng reading tone-numbered pinyin (its ``cmn`` Han voice is broken in 1.51)."""
    from pypinyin import Style, lazy_pinyin

    (read_wav,) = _audio("read_wav")
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise SystemExit("neither ivr.prompts TTS nor espeak-ng is available; apt-get install espeak-ng")
    pinyin = " ".join(lazy_pinyin(text, style=Style.TONE3, neutral_tone_with_five=True, errors="ignore"))
    with tempfile.TemporaryDirectory() as d:
        wav = Path(d) / "say.wav"
        subprocess.run([exe, "-v", "cmn-latn-pinyin", "-s", str(int(150 * speed)), "-w", str(wav), pinyin],
                       check=True, capture_output=True)
        return read_wav(wav)


def _audio(*names: str) -> list:
    """ivr.audio's public functions (its submodules while its __init__ is being written)."""
    import importlib

    out = []
    for n in names:
        fn = getattr(importlib.import_module("ivr.audio"), n, None)
        if callable(fn):
            out.append(fn)
        else:
            mod = {"resample": "resample", "read_wav": "wav", "wav_bytes": "wav"}.get(n, "g711")
            out.append(getattr(importlib.import_module(f"ivr.audio.{mod}"), n))
    return out


class Synth:
    """The TTS voice, loaded once; ``speed`` is the engine's own speaking rate."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._engines: dict[float, object] = {}

    def __call__(self, text: str, speed: float) -> tuple[np.ndarray, int]:
        if self.name == "espeak-cli":
            return espeak_synthesize(text, speed)
        eng = self._engines.get(speed)
        if eng is None:
            from ivr.prompts.engine import load_tts

            eng = load_tts(self.name)
            if hasattr(eng, "speed"):
                eng.speed = speed
            self._engines[speed] = eng
        return eng.synthesize(text)


def pitch_shift(x: np.ndarray, rate: int, semitones: float) -> np.ndarray:
    """A tape-speed change: pitch and tempo move together, as with a different voice."""
    if not semitones:
        return x
    (resample,) = _audio("resample")
    factor = 2 ** (semitones / 12)
    # Resampling to rate/factor and playing back at `rate` raises pitch by `factor`.
    return resample(x, rate, int(round(rate / factor)))


def add_noise(x: np.ndarray, snr_db: float | None, seed: int, kind: str = "pink") -> np.ndarray:
    if snr_db is None:
        return x
    rng = np.random.default_rng(seed)
    n = rng.standard_normal(len(x))
    if kind == "pink":  # 1/f: closer to room and line noise than white
        spec = np.fft.rfft(n)
        f = np.arange(len(spec), dtype=float)
        f[0] = 1.0
        n = np.fft.irfft(spec / np.sqrt(f), len(x))
    xf = x.astype(np.float64)
    active = xf[np.abs(xf) > 0.05 * np.abs(xf).max()] if np.abs(xf).max() > 0 else xf
    p_sig = np.mean(active ** 2) if active.size else 1.0
    n *= np.sqrt(p_sig / (10 ** (snr_db / 10)) / np.mean(n ** 2))
    return np.clip(xf + n, -32768, 32767).astype(np.int16)


def ulaw_wav_bytes(codes: bytes, rate: int = 8000) -> bytes:
    fmt = struct.pack("<HHIIHHH", WAVE_MULAW, 1, rate, rate, 1, 8, 0)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"fact" + struct.pack("<II", 4, len(codes))
    body += b"data" + struct.pack("<I", len(codes)) + codes + (b"\x00" if len(codes) % 2 else b"")
    return b"RIFF" + struct.pack("<I", len(body)) + body


def render(spec: dict, synth: Synth, cache: dict) -> bytes:
    resample, ulaw_encode, wav_bytes = _audio("resample", "ulaw_encode", "wav_bytes")

    speed = float(spec.get("speed", 1.0))
    key = (spec["text"], speed)
    if key not in cache:
        cache[key] = synth(spec["text"], speed)
    x, rate = cache[key]
    x = pitch_shift(x, rate, float(spec.get("pitch", 0)))
    channel = spec.get("channel", "pcm16k")
    target = 8000 if channel in ("ulaw8k", "pcm8k") else 16000
    x = resample(x, rate, target)
    lead = np.zeros(int(0.15 * target), np.int16)  # a breath before and after, as a caller leaves
    x = np.concatenate([lead, (x * 10 ** (spec.get("gain_db", 0) / 20)).clip(-32768, 32767).astype(np.int16), lead])
    x = add_noise(x, spec.get("snr_db"), seed=zlib.crc32(spec["id"].encode()))
    if channel == "ulaw8k":
        codes = ulaw_encode(x)
        return ulaw_wav_bytes(codes, 8000)
    return wav_bytes(x, target)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--force", action="store_true", help="rewrite existing files")
    ap.add_argument("--tts", default=None, help="kokoro | espeak | espeak-cli (default: ivr.prompts' default engine)")
    ap.add_argument("--only", default=None, help="only phrase ids containing this")
    args = ap.parse_args(argv)

    phrases = yaml.safe_load((HERE / "_phrases.yaml").read_text(encoding="utf-8"))["phrases"]
    OUT.mkdir(exist_ok=True)
    name = args.tts
    if name is None:
        try:
            from ivr.prompts.engine import DEFAULT_TTS

            name = DEFAULT_TTS
        except ImportError:
            name = "espeak-cli"
    synth = Synth(name)
    cache: dict = {}
    made = 0
    for spec in phrases:
        if args.only and args.only not in spec["id"]:
            continue
        path = OUT / f"{spec['id']}.wav"
        if path.exists() and not args.force:
            continue
        path.write_bytes(render(spec, synth, cache))
        made += 1
        print(f"{path.relative_to(HERE)}  {spec['text']}", flush=True)
    total = sum(p.stat().st_size for p in OUT.glob("*.wav"))
    print(f"{made} written with {name}; audio_fixtures/audio holds {total / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    sys.exit(main())
