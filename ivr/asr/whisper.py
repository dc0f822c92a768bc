"""Whisper base through faster-whisper (CTranslate2, int8): the embedded
default for free Mandarin speech.

Whisper decodes whole turns, so ``accept`` buffers and ``finish`` decodes.
With ``speculative=True`` the recognizer also decodes in the background
whenever the caller pauses; if nothing voiced arrived after that snapshot by
``finish`` (the endpointer's trailing silence), the background result is
reused and the caller does not wait for a decode. It can only win the part
of the trailing silence after ``pause_ms``: measured (bench/asr.py, 600 ms
silence, busy 2-core machine) 2.29 s -> 2.16 s mean finish latency, with a
worse maximum, so it is off by default."""
from __future__ import annotations

import math
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Sequence

import numpy as np

from ivr.asr.base import Engine, Recognizer
from ivr.asr.resampling import resample
from ivr.asr.text import to_traditional
from ivr.errors import ModelCorruptError
from ivr.frames import Transcript

MODEL = "whisper-base"
RATE = 16000
# A turn this quiet is not decoded at all (Whisper invents text on silence).
SILENCE_RMS = 60.0
# prompt text steering Whisper to Taiwan Mandarin in Traditional characters
BASE_PROMPT = "以下是台灣國語的客服電話。"


class WhisperEngine(Engine):
    name = "whisper"

    def __init__(self, model_dir: Path, beam_size: int = 2, cpu_threads: int = 2,
                 compute_type: str = "int8", speculative: bool = False, pause_ms: int = 300) -> None:
        super().__init__(model_dir)
        from faster_whisper import WhisperModel

        t0 = time.perf_counter()
        try:
            self.model = WhisperModel(str(model_dir), device="cpu", compute_type=compute_type,
                                      cpu_threads=cpu_threads, num_workers=1)
        except (RuntimeError, ValueError, OSError) as e:
            raise ModelCorruptError(f"faster-whisper cannot load {model_dir}: {str(e).splitlines()[0]}",
                                    f"model {MODEL}") from None
        self.load_seconds = time.perf_counter() - t0
        self.beam_size = beam_size
        self.speculative = speculative
        self.pause_ms = pause_ms
        # CTranslate2 runs one decode at a time per model replica; serialise explicitly
        self.lock = threading.Lock()

    def recognizer(self, sample_rate: int = 16000, speculative: bool | None = None) -> "WhisperRecognizer":
        return WhisperRecognizer(self, sample_rate, self.speculative if speculative is None else speculative,
                                 self.pause_ms)

    def decode(self, audio16k: np.ndarray, expected: Sequence[str] | None) -> tuple[str, float]:
        """Decode one turn of 16 kHz int16 audio -> (Traditional text, confidence)."""
        if audio16k.size < RATE // 10 or float(np.sqrt(np.mean(audio16k.astype(np.float64) ** 2))) < SILENCE_RMS:
            return "", 0.0
        x = audio16k.astype(np.float32) / 32768.0
        prompt = BASE_PROMPT + ("、".join(expected) + "。" if expected else "")
        with self.lock:
            segments, _info = self.model.transcribe(
                x, language="zh", task="transcribe", beam_size=self.beam_size,
                vad_filter=False, condition_on_previous_text=False, without_timestamps=True,
                initial_prompt=prompt, temperature=0.0)
            segs = list(segments)
        text = "".join(s.text for s in segs if s.no_speech_prob < 0.8 or s.avg_logprob > -0.6).strip()
        # on near-silence Whisper may recite its prompt back: that is not the caller
        text = text.replace(BASE_PROMPT.rstrip("。"), "").strip("。, ")
        if not segs or not text:
            return "", 0.0
        conf = float(np.mean([math.exp(min(0.0, s.avg_logprob)) for s in segs]))
        return to_traditional(text), conf


class WhisperRecognizer(Recognizer):
    engine_name = "whisper"

    def __init__(self, engine: WhisperEngine, sample_rate: int, speculative: bool = False,
                 pause_ms: int = 300) -> None:
        super().__init__(sample_rate)
        self.engine = engine
        self.speculative = speculative
        self.pause_ms = pause_ms
        self._chunks: list[np.ndarray] = []
        self._n = 0
        self._vad = None
        self._voiced_end = 0  # samples (input rate) up to the last voiced 30 ms frame
        self._vad_pos = 0
        self._tail = np.zeros(0, dtype=np.int16)
        self._spec: tuple[int, Future] | None = None  # (snapshot length, future)
        self._pool: ThreadPoolExecutor | None = None
        self.speculative_hits = 0  # turns answered from a background decode (for bench/tests)
        if speculative:
            import webrtcvad

            self._vad = webrtcvad.Vad(2)
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="whisper-spec")

    def _audio(self) -> np.ndarray:
        return np.concatenate(self._chunks) if self._chunks else np.zeros(0, dtype=np.int16)

    def accept(self, pcm: bytes) -> Transcript | None:
        x = self._samples(pcm)
        if x.size == 0:
            return None
        self._chunks.append(x.copy())
        self._n += x.size
        if self.speculative:
            self._track_voice(x)
            self._maybe_speculate()
        return None

    def _track_voice(self, x: np.ndarray) -> None:
        step = self.sample_rate * 30 // 1000
        buf = np.concatenate([self._tail, x])
        i = 0
        while i + step <= buf.size:
            frame = buf[i:i + step]
            self._vad_pos += step
            if self._vad.is_speech(frame.tobytes(), self.sample_rate):
                self._voiced_end = self._vad_pos
            i += step
        self._tail = buf[i:].copy()

    def _maybe_speculate(self) -> None:
        paused = (self._vad_pos - self._voiced_end) * 1000 >= self.pause_ms * self.sample_rate
        if not paused or self._voiced_end == 0:
            return
        if self._spec is not None:
            if self._spec[0] >= self._voiced_end:
                return  # already decoding everything voiced so far
            # stale: drop it if it has not started; a running one just finishes first
            self._spec[1].cancel()
        snap = self._audio()[: self._n]
        audio = resample(snap, self.sample_rate, RATE)
        self._spec = (snap.size, self._pool.submit(self.engine.decode, audio, self.expected))

    def finish(self) -> Transcript:
        t0 = time.perf_counter()
        audio = self._audio()
        result = None
        if self._spec is not None and self._spec[0] >= self._voiced_end:
            # nothing voiced since the snapshot: its decode is the answer
            result = self._spec[1].result()
            self.speculative_hits += 1
        elif self._spec is not None:
            self._spec[1].cancel()  # stale and maybe still queued: do not let it delay us
        if result is None:
            result = self.engine.decode(resample(audio, self.sample_rate, RATE), self.expected)
        text, conf = result
        self.reset()
        return self._transcript(text, True, conf, t0)

    def reset(self) -> None:
        self._chunks = []
        self._n = 0
        self._voiced_end = 0
        self._vad_pos = 0
        self._tail = np.zeros(0, dtype=np.int16)
        if self._spec is not None:
            self._spec[1].cancel()
        self._spec = None

    def close(self) -> None:
        self.reset()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
