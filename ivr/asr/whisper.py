"""Whisper base through faster-whisper (CTranslate2, int8): the embedded
default for free Mandarin speech.

Whisper decodes whole turns, so ``accept`` buffers and ``finish`` decodes.
With ``speculative=True`` the recognizer also decodes in the background
whenever the caller pauses; if nothing voiced arrived after that snapshot by
``finish`` (the endpointer's trailing silence), the background result is
reused and the caller does not wait for a decode. Measured (bench/asr.py,
600 ms trailing silence, idle 2-core machine, turn-sized window): finish
latency 0.575 s plain -> 0.151 s speculative (mean). The session turns it on;
the engine default stays off so a batch decode never spends CPU twice.

Any faster-whisper model folder works (``whisper-base`` is the default; see
models/whisper-small.yaml for a larger one). With ``rescore=True``, on a step
with expected phrases the recognizer also ranks them by the audio
(``WhisperEngine.score``, see ivr.asr.whisper_score) on the same encoder pass,
into ``Transcript.alternatives``; the free transcript stays the text."""
from __future__ import annotations

import contextlib
import math
import os
import platform
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from ivr.asr.base import Engine, EngineCapabilities, Recognizer
from ivr.asr.decode_queue import FINAL, PARTIAL, SPECULATIVE, DecodeQueue
from ivr.asr.resampling import resample
from ivr.asr.text import to_traditional
from ivr.asr.whisper_nbest import MAX_HYPOTHESES, next_best
from ivr.asr.whisper_score import candidates, phrase_score, rank
from ivr.asr.whisper_text import compact_hints, recites_hints, recites_prompt, runaway
from ivr.audio.denoise import Denoiser
from ivr.errors import ModelCorruptError
from ivr.frames import Alternative, Transcript

MODEL = "whisper-base"  # the default model
RATE = 16000
# A turn this quiet is not decoded at all (Whisper invents text on silence).
SILENCE_RMS = 60.0
# encoder frames (20 ms) kept after the turn's audio when scoring phrases
SCORE_PAD_FRAMES = 25
SCORE_MIN_FRAMES = 150
# prompt text steering Whisper to Taiwan Mandarin in Traditional characters
BASE_PROMPT = "以下是台灣國語的客服電話。"


class TurnResult(NamedTuple):
    """One decoded turn: free transcript, its confidence, and (closed-set
    steps) the expected phrases ranked by the audio."""

    text: str
    confidence: float
    alternatives: tuple[Alternative, ...] = ()


def pin_cpu_isa() -> str | None:
    """Pin CTranslate2 to one instruction set so the same audio gives the same
    transcript on every x86 machine. Its int8 kernels round differently per
    ISA: on one AVX-512 machine, forcing AVX512 changed 3 of 76 fixture
    transcripts and one verdict against AVX2 (the machine's own default there),
    GENERIC 4. AVX2 is on every x86-64 server of the last decade; an operator
    can still choose with ``CT2_FORCE_CPU_ISA`` (read when ctranslate2 loads,
    so this runs before the first import).

    The int8 matrix products are not CTranslate2's own kernels: it hands them to
    Intel MKL on a genuine Intel CPU and to oneDNN elsewhere, and each library
    picks its own instruction set. The fixture transcripts differed between an
    AVX-512 Intel machine (MKL) and an AVX2 AMD EPYC (oneDNN) with the ISA pinned
    ("登入" vs "等落"). So the GEMM library is pinned too — oneDNN everywhere
    (``CT2_USE_MKL=0``), held to AVX2 (``ONEDNN_MAX_CPU_ISA``) — unless the
    operator set those variables."""
    if not os.environ.get("CT2_USE_MKL") and platform.machine().lower() in ("x86_64", "amd64"):
        os.environ["CT2_USE_MKL"] = "0"
        os.environ.setdefault("ONEDNN_MAX_CPU_ISA", "AVX2")
        os.environ.setdefault("DNNL_MAX_CPU_ISA", "AVX2")  # the variable's name before oneDNN 2.x
    if "CT2_FORCE_CPU_ISA" in os.environ:
        return os.environ["CT2_FORCE_CPU_ISA"] or None
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return None
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    if " avx2" not in flags:
        return None
    os.environ["CT2_FORCE_CPU_ISA"] = "AVX2"
    return "AVX2"


class WhisperEngine(Engine):
    name = "whisper"
    # expected phrases become prompt hints, not a grammar; the answer comes with the turn's end
    capabilities = EngineCapabilities(grammar=False, free_speech=True, streaming=False, languages=("zh-TW",))

    def __init__(self, model_dir: Path, beam_size: int = 2, cpu_threads: int = 2,
                 compute_type: str = "int8", speculative: bool = False, pause_ms: int = 300,
                 window_seconds: float = 10.0, workers: int = 1, rescore: bool = False,
                 model_name: str | None = None, denoise: bool = False) -> None:
        super().__init__(model_dir)
        # the registry installs a model under its own name; a folder given by hand is named by it
        self.model_name = model_name or self.model_dir.name
        self.cpu_isa = pin_cpu_isa()
        from faster_whisper import WhisperModel

        t0 = time.perf_counter()
        try:
            self.model = WhisperModel(str(model_dir), device="cpu", compute_type=compute_type,
                                      cpu_threads=cpu_threads, num_workers=workers)
        except (RuntimeError, ValueError, OSError) as e:
            raise ModelCorruptError(f"faster-whisper cannot load {model_dir}: {str(e).splitlines()[0]}",
                                    f"model {self.model_name}") from None
        self.load_seconds = time.perf_counter() - t0
        from faster_whisper.tokenizer import Tokenizer

        self._tokenizer = Tokenizer(self.model.hf_tokenizer, True, task="transcribe", language="zh")
        self.window_frames = int(window_seconds * 100) if window_seconds else 0  # 0 = Whisper's full 30 s
        self.beam_size = beam_size
        # rank a closed-set step's expected phrases by the audio (Transcript.alternatives).
        # Off by default: it costs a decoder pass per phrase and did not raise the
        # understood rate (bench/whisper_rescore.py; see ivr.asr.whisper_score)
        self.rescore = rescore
        # steady line noise gated from a noisy turn before it is decoded (ivr.audio.denoise);
        # a turn clean enough passes untouched. Off by default: it did not raise the
        # understood rate at 10 dB (bench/noise_frontend.py)
        self.front_end: Denoiser | None = Denoiser() if denoise else None
        self.speculative = speculative
        self.pause_ms = pause_ms
        # CTranslate2 runs one decode per worker at a time and queues the rest
        # itself, handing each to whichever worker is free; with one worker,
        # serialise here so a speculative decode cannot starve a final one.
        self.workers = workers
        self.lock = threading.Lock() if workers == 1 else contextlib.nullcontext()
        self._decodes: DecodeQueue | None = None
        self._decodes_lock = threading.Lock()

    @property
    def decodes(self) -> DecodeQueue:
        """The live calls' decodes, served final first (ivr.asr.decode_queue);
        made on first use: batch decoding never starts its threads."""
        with self._decodes_lock:
            if self._decodes is None:
                self._decodes = DecodeQueue(self.workers, "whisper")
            return self._decodes

    def close(self) -> None:
        if self._decodes is not None:
            self._decodes.close()

    def recognizer(self, sample_rate: int = 16000, speculative: bool | None = None) -> WhisperRecognizer:
        return WhisperRecognizer(self, sample_rate, self.speculative if speculative is None else speculative,
                                 self.pause_ms)

    def decode(self, audio16k: np.ndarray, expected: Sequence[str] | None) -> tuple[str, float]:
        """Decode one turn of 16 kHz int16 audio -> (Traditional text, confidence)."""
        r = self.recognize(audio16k, expected, rescore=False)
        return r.text, r.confidence

    def recognize(self, audio16k: np.ndarray, expected: Sequence[str] | None,
                  rescore: bool | None = None, hypotheses: int = 1) -> TurnResult:
        """Decode one turn of 16 kHz int16 audio; with expected phrases (and
        ``rescore``, default the engine's) also rank them by the audio on the
        same encoder pass. ``hypotheses`` > 1 (a number step): the beam's next-best
        transcripts instead, best first, as the alternatives (no phrase ranking).
        A turn with no transcript (silence, no speech, the
        hint list recited on noise) has no alternatives either: a caller who
        said nothing must not come out as a ranked answer."""
        if _silent(audio16k):
            return TurnResult("", 0.0)
        if self.front_end is not None:
            audio16k = self.front_end(audio16k, RATE)
        x = audio16k.astype(np.float32) / 32768.0
        hints = compact_hints(expected) if expected else []
        prompt = BASE_PROMPT + ("、".join(hints) + "。" if hints else "")
        nbest = max(1, min(hypotheses, MAX_HYPOTHESES))
        rescoring = self.rescore if rescore is None else rescore
        phrases = candidates(expected) if expected and rescoring and nbest == 1 else []
        seconds = audio16k.size / RATE
        with self.lock:
            encoded, n = self._encode(x)
            hyps, no_speech = self._decode_turn(encoded, n, prompt, nbest)
            if hints and runaway(hyps[0][0], seconds):
                # the hint list pulled Whisper into reciting it (一、二、三、四… on a digit
                # step, or one hint over and over): decode again without it
                hyps, no_speech = self._decode_turn(encoded, n, BASE_PROMPT, nbest)
            scored = self._score(encoded, n, phrases) if phrases else []
        text, avg_logprob = hyps[0]
        if no_speech >= 0.8 and avg_logprob <= -0.6:
            return TurnResult("", 0.0)
        text = _answer(text, seconds, expected)
        if not text:  # a loop, noise or mumbling: no answer, ranked or not (the step asks again)
            return TurnResult("", 0.0)
        if nbest > 1:
            alternatives = next_best(hyps[1:], text, lambda raw: _answer(raw, seconds, expected))
        else:
            alternatives = rank(scored)
        return TurnResult(text, float(math.exp(min(0.0, avg_logprob))), alternatives)

    def score(self, audio16k: np.ndarray, phrases: Sequence[str]) -> list[tuple[str, float]]:
        """Each phrase scored against one turn of 16 kHz int16 audio: mean
        log-probability per token, best first (see ivr.asr.whisper_score).
        All phrases in one batch on one encoder pass."""
        phrases = [p for p in dict.fromkeys(p.strip() for p in phrases) if p]
        if not phrases:
            return []
        if self.front_end is not None:
            audio16k = self.front_end(audio16k, RATE)
        x = audio16k.astype(np.float32) / 32768.0
        with self.lock:
            encoded, n = self._encode(x)
            scored = self._score(encoded, n, phrases)
        return sorted(scored, key=lambda ps: -ps[1])

    def _encode(self, x: np.ndarray) -> tuple[Any, int]:
        """The encoder on a window sized to the turn, not Whisper's fixed 30 s
        -> (encoded StorageView, mel frames of audio).

        CTranslate2 accepts a shorter mel window and the encoder's cost is
        linear in it: a 3 s turn in a 10 s window encodes in ~0.05 s instead of
        ~0.77 s (2 cores). Windows much shorter than 10 s made Whisper base
        hallucinate on short turns (bench: fixtures CER 0.34 at 6 s vs 0.16 at
        10 s vs 0.14 at 30 s; real Mandarin 0.184 at both 10 s and 30 s)."""
        import ctranslate2

        feats = self.model.feature_extractor(x)
        n = feats.shape[1]
        if self.window_frames:
            width = min(3000, max(n + 200, self.window_frames))
        else:
            width = 3000
        feats = feats[:, :width] if n >= width else np.pad(feats, ((0, 0), (0, width - n)))
        encoded = self.model.model.encode(
            ctranslate2.StorageView.from_array(np.ascontiguousarray(feats[None], dtype=np.float32)), to_cpu=True)
        return encoded, min(n, width)

    def _generate(self, encoded: Any, n: int, prompt: str,
                  suppress: Sequence[int] = ()) -> tuple[str, float, float]:
        """One decode of an encoded turn with ``prompt`` -> (text, score, no-speech
        probability). ``suppress``: token ids never to write besides Whisper's default
        set. The product passes none: closed-set decoding
        of number steps (only digits, units, 年月日號, ID letters writable) understood fewer
        of the issue-11 audio set's number lines than the step's hints in the prompt,
        as did the plain prompt and a digit-string example prompt (bench/number_decoding.py):
        Whisper base, unable to write the frame words (金額是, 身分證), loops on what is
        left (。。。。, 零零零…)."""
        hyps, no_speech = self._hypotheses(encoded, n, prompt, suppress=suppress)
        text, score = hyps[0] if hyps else ("", -10.0)
        return text, score, no_speech

    def _decode_turn(self, encoded: Any, n: int, prompt: str, count: int) -> tuple[list[tuple[str, float]], float]:
        """(transcripts best first, never none; no-speech probability)."""
        if count > 1:
            hyps, no_speech = self._hypotheses(encoded, n, prompt, count)
            return hyps or [("", -10.0)], no_speech
        text, score, no_speech = self._generate(encoded, n, prompt)
        return [(text, score)], no_speech

    def _hypotheses(self, encoded: Any, n: int, prompt: str, count: int = 1,
                    suppress: Sequence[int] = ()) -> tuple[list[tuple[str, float]], float]:
        """The ``count`` best transcripts of one beam search (beam ``max(count,
        beam_size)``), best first, each with its length-normalised log-probability,
        and the turn's no-speech probability. ``count=1`` is the plain decode."""
        tok = self._tokenizer
        prompt_ids = [tok.sot_prev] + tok.encode(" " + prompt)[-200:] + list(tok.sot_sequence) + [tok.no_timestamps]
        # a turn cannot hold more than ~8 tokens a second: a bound on runaway repetition
        max_new = int(16 + 8 * n / 100)
        count = max(1, count)
        res = self.model.model.generate(
            encoded, [prompt_ids], beam_size=max(count, self.beam_size),
            max_length=min(448, len(prompt_ids) + max_new), num_hypotheses=count,
            return_scores=True, return_no_speech_prob=True, suppress_blank=True,
            suppress_tokens=[-1, *suppress])[0]
        hyps = []
        for i, seq in enumerate(res.sequences_ids):
            score = float(res.scores[i]) if i < len(res.scores) else -10.0
            hyps.append((tok.decode([t for t in seq if t < tok.eot]).strip(), score))
        return hyps, float(res.no_speech_prob)

    def _score(self, encoded: Any, n: int, phrases: Sequence[str]) -> list[tuple[str, float]]:
        """Teacher-forced token probabilities of every phrase, one batch: the
        encoder output is repeated per phrase (CTranslate2 wants one row per
        sequence) and the decoder runs once over the batch.

        Cost is one cross-attention projection of the encoder output per
        phrase, so the padded 10 s window is cut to the turn (+0.5 s), but not
        below 3 s: 30 yes/no phrases on a 2 s turn took 5.2 s with the 10 s
        window and 1.2 s with the turn's frames (loaded 2-core machine), with
        the same ranking; on sub-second answers (取消, 好) a window of the turn
        alone lost the right phrase, one of >= 3 s kept it."""
        import ctranslate2

        tok = self._tokenizer
        token_ids = [tok.encode(p) for p in phrases]
        keep = [i for i, t in enumerate(token_ids) if t]
        if not keep:
            return []
        frames = max(1, n // 2)
        rows = np.asarray(encoded)[:, : max(frames + SCORE_PAD_FRAMES, SCORE_MIN_FRAMES)]
        batch = ctranslate2.StorageView.from_array(np.ascontiguousarray(np.repeat(rows, len(keep), axis=0)))
        start = list(tok.sot_sequence) + [tok.no_timestamps]
        results = self.model.model.align(batch, start, [token_ids[i] for i in keep], [frames] * len(keep))
        return [(phrases[i], phrase_score(r.text_token_probs)) for i, r in zip(keep, results, strict=True)]


def _answer(raw: str, seconds: float, expected: Sequence[str] | None) -> str:
    """A decoded transcript as the caller's answer in Traditional characters, or ""
    when it is none: a loop is not what the caller said, on near-silence Whisper
    may recite its prompt back (or pieces of it, on noise), on noise the hint list."""
    if runaway(raw, seconds):
        return ""
    text = raw.replace(BASE_PROMPT.rstrip("。"), "").strip("。, ")
    if not text or recites_hints(text, expected) or recites_prompt(text, BASE_PROMPT):
        return ""
    return to_traditional(text)


def _silent(audio16k: np.ndarray) -> bool:
    return audio16k.size < RATE // 10 or float(np.sqrt(np.mean(audio16k.astype(np.float64) ** 2))) < SILENCE_RMS


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
        self._vad: Any = None  # webrtcvad.Vad (untyped) when speculative
        self._voiced_end = 0  # samples (input rate) up to the last voiced 30 ms frame
        self._vad_pos = 0
        self._tail = np.zeros(0, dtype=np.int16)
        self._spec: tuple[int, Future[TurnResult]] | None = None  # (snapshot length, future)
        self.speculative_hits = 0  # turns answered from a background decode (for bench/tests)
        self._asked = False  # the session asked for a partial this turn
        if speculative:
            import webrtcvad

            self._vad = webrtcvad.Vad(2)

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
        assert self._vad is not None  # speculative recognizers have one
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
        if self._asked:
            return  # the session asks for partials in the pauses its endpointer hears: no guesses of our own
        if self._spec is not None and self._spec[0] < self._voiced_end:
            self._spec[1].cancel()  # the caller spoke on: a guess still queued is void (a running one finishes)
        paused = (self._vad_pos - self._voiced_end) * 1000 >= self.pause_ms * self.sample_rate
        if not paused or self._voiced_end == 0:
            return
        if self._spec is not None:
            if self._spec[0] >= self._voiced_end:
                return  # already decoding everything voiced so far
            # stale: drop it if it has not started; a running one just finishes first
            self._spec[1].cancel()
        if self.engine.decodes.waiting(PARTIAL) >= self.engine.workers:
            return  # callers are waiting on decodes: no guessing now (the final decodes at the end)
        self._launch(SPECULATIVE)

    def _launch(self, priority: int) -> Future[TurnResult]:
        snap = self._audio()[: self._n]
        audio = resample(snap, self.sample_rate, RATE)
        self._spec = (snap.size, self.engine.decodes.submit(priority, self.engine.recognize, audio, self.expected,
                                                                None, self.hypotheses))
        return self._spec[1]

    def partial(self) -> Transcript | None:
        """The turn so far, decoded now (the session asks in the caller's pause
        whether the answer is already complete). Speculative: the background
        decode of everything voiced so far, started now if none covers it, so
        that ``finish`` right after reuses it; otherwise a plain decode."""
        return self.partial_later().result()

    def partial_later(self) -> Future[Transcript | None]:
        t0 = time.perf_counter()
        out: Future[Transcript | None] = Future()
        self._asked = True
        if self._n == 0:
            out.set_result(None)
            return out
        if not self.speculative:
            r = self._decode(resample(self._audio(), self.sample_rate, RATE))
            out.set_result(self._as_partial(r, t0))
            return out
        spec = self._spec
        if spec is not None and spec[0] >= self._voiced_end and not spec[1].cancelled():
            fut = spec[1]
            self.engine.decodes.promote(fut, PARTIAL)
        else:
            if spec is not None:
                spec[1].cancel()  # superseded (the caller spoke on): void if still queued
            fut = self._launch(PARTIAL)

        def done(f: Future[TurnResult]) -> None:
            if f.cancelled():
                out.set_result(None)  # the turn moved on (reset): no partial
            elif (e := f.exception()) is not None:
                out.set_exception(e)
            else:
                out.set_result(self._as_partial(f.result(), t0))

        fut.add_done_callback(done)
        return out

    def _decode(self, audio16k: np.ndarray) -> TurnResult:
        return self.engine.recognize(audio16k, self.expected, hypotheses=self.hypotheses)

    def _as_partial(self, r: TurnResult, t0: float) -> Transcript:
        t = self._transcript(r.text, False, r.confidence, t0)
        return replace(t, alternatives=r.alternatives) if r.alternatives else t

    def finish(self) -> Transcript:
        t0 = time.perf_counter()
        audio = self._audio()
        result = None
        if self._spec is not None and self._spec[0] >= self._voiced_end and not self._spec[1].cancelled():
            # nothing voiced since the snapshot: its decode is the answer (the caller now waits on it)
            self.engine.decodes.promote(self._spec[1], FINAL)
            result = self._spec[1].result()
            self.speculative_hits += 1
        elif self._spec is not None:
            self._spec[1].cancel()  # stale and maybe still queued: do not let it delay us
        if result is None and self.speculative:  # a live call: served before other calls' guesses
            audio16k = resample(audio, self.sample_rate, RATE)
            result = self.engine.decodes.submit(FINAL, self.engine.recognize, audio16k, self.expected,
                                                None, self.hypotheses).result()
        elif result is None:
            result = self._decode(resample(audio, self.sample_rate, RATE))
        self.reset()
        t = self._transcript(result.text, True, result.confidence, t0)
        return replace(t, alternatives=result.alternatives) if result.alternatives else t

    def reset(self) -> None:
        self._asked = False
        self._chunks = []
        self._n = 0
        self._voiced_end = 0
        self._vad_pos = 0
        self._tail = np.zeros(0, dtype=np.int16)
        if self._spec is not None:
            self._spec[1].cancel()
        self._spec = None

    def close(self) -> None:
        self.reset()  # a queued guess of this call is cancelled; the engine's queue serves other calls
