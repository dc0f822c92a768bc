"""Which speech engine hears which language.

Defaults: Mandarin (zh-TW) goes to the embedded Whisper model; Taiwanese
(nan-TW) goes to pocketsphinx with the step's expected phrases as a grammar
when that model is installed, else to Whisper. An engine that declares it
cannot take free speech (``EngineCapabilities.free_speech``: pocketsphinx's
grammar-only decoding) is not given a step without expected phrases: that
step uses the fallback engine.
Engines are loaded once per process (they hold the model); each call gets its
own recognizer per engine.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ivr.asr.base import Engine, Recognizer
from ivr.errors import IvrError
from ivr.log import get_logger

log = get_logger(__name__)

DEFAULT_ROUTES: Mapping[str, str] = {"zh-TW": "whisper", "nan-TW": "sphinx"}


# For live lines: Whisper decodes speculatively in the caller's pauses, so the
# answer is usually ready when the endpointer's trailing silence ends (see
# ivr.asr.whisper). Not for virtual-clock runs, where no real pause happens.
LIVE_OPTIONS: Mapping[str, Mapping[str, Any]] = {"whisper": {"speculative": True}}


class EngineSelector:
    """``routes`` maps language -> engine name; ``engines`` may hold already
    loaded engines (tests pass fakes); others load on first use with
    ``loader`` (default ``ivr.asr.load_engine`` with ``options[name]``). An engine that fails to
    load is remembered as missing and its languages fall back to ``fallback``.
    """

    def __init__(
        self,
        engines: Mapping[str, Engine] | None = None,
        routes: Mapping[str, str] | None = None,
        fallback: str = "whisper",
        loader: Callable[[str], Engine] | None = None,
        options: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self._engines: dict[str, Engine] = dict(engines or {})
        self.routes = dict(DEFAULT_ROUTES if routes is None else routes)
        self.fallback = fallback
        self.options = dict(options or {})
        self._loader = loader or self._load
        self._missing: dict[str, str] = {}
        self._lock = threading.Lock()

    def _load(self, name: str) -> Engine:
        from ivr.asr import load_engine

        # "whisper:whisper-small" takes the options of its engine, "whisper"
        return load_engine(name, **self.options.get(name.partition(":")[0], {}))

    @classmethod
    def single(cls, engine: Engine, name: str = "default") -> EngineSelector:
        """Every language on one engine (tests, or a deployment with one model)."""
        return cls({name: engine}, routes={}, fallback=name)

    def engine(self, name: str) -> Engine | None:
        with self._lock:
            if name in self._engines:
                return self._engines[name]
            if name in self._missing:
                return None
            try:
                eng = self._loader(name)
            except (IvrError, ImportError, OSError) as e:
                self._missing[name] = str(e)
                log.warning("speech engine %s unavailable, using %s: %s", name, self.fallback, e)
                return None
            self._engines[name] = eng
            return eng

    def choose(self, language: str, expected: tuple[str, ...] = ()) -> tuple[str, Engine]:
        name = self.routes.get(language, self.fallback)
        eng = self.engine(name)
        if eng is not None and not expected and not eng.capabilities.free_speech and name != self.fallback:
            eng = None  # a grammar-only engine cannot hear a free-speech step
        if eng is None and name != self.fallback:
            name, eng = self.fallback, self.engine(self.fallback)
        if eng is None:
            raise IvrError(f"no speech engine for {language}: {self._missing.get(name, 'not loaded')}", name)
        return name, eng

    def preload(self) -> dict[str, str]:
        """Load every routed engine now (servers do this before taking calls);
        returns engine -> 'ok' or why it is missing."""
        out = {}
        for name in {*self.routes.values(), self.fallback}:
            out[name] = "ok" if self.engine(name) is not None else self._missing.get(name, "missing")
        return out

    def warm_up(self, sample_rate: int = 8000, seconds: float = 0.6) -> dict[str, float]:
        """Decode a short stretch of noise on every loaded engine, so the
        first caller does not pay for lazy model set-up (CTranslate2 allocates its
        buffers and picks kernels on the first decode). Returns engine -> seconds;
        an engine that fails to warm up is logged and left as it is."""
        out: dict[str, float] = {}
        # loud enough that no engine skips it as silence; what it "hears" is thrown away
        noise = (np.random.default_rng(0).normal(0, 2000, int(sample_rate * seconds))).astype(np.int16).tobytes()
        for name, eng in list(self._engines.items()):
            caps = eng.capabilities
            if caps.sample_rates and sample_rate not in caps.sample_rates:
                continue
            t0 = time.perf_counter()
            try:
                rec = eng.recognizer(sample_rate=sample_rate)
                language = caps.languages[0] if caps.languages else "zh-TW"
                rec.set_expected(None if caps.free_speech else ["是", "不是"], language=language)
                rec.accept(noise)
                rec.finish()
            except Exception as e:  # a warm-up is an optimisation: never stops a server
                log.warning("speech engine %s: warm-up failed: %s", name, e)
                continue
            out[name] = time.perf_counter() - t0
        return out


class CallRecognizers:
    """One recognizer per engine for one call, configured per Listen."""

    def __init__(self, selector: EngineSelector, sample_rate: int) -> None:
        self.selector = selector
        self.sample_rate = sample_rate
        self._recs: dict[str, Recognizer] = {}

    def for_listen(self, language: str, expected: tuple[str, ...]) -> tuple[str, Recognizer]:
        name, eng = self.selector.choose(language, expected)
        rec = self._recs.get(name)
        if rec is None:
            rec = self._recs[name] = eng.recognizer(sample_rate=self.sample_rate)
        rec.set_expected(list(expected) or None, language=language)
        return name, rec
