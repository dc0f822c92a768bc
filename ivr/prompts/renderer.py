"""Turn ``Say`` actions into PCM: a recorded file when the flow has one, else TTS.

There is no Taiwanese (nan-TW) voice in any engine we can ship, so a nan-TW
prompt without a recording is read from its text by the Mandarin voice; it is
understandable to most Taiwanese callers but sounds wrong, so the renderer
warns once per prompt key to tell flow designers which recordings are missing.
"""
from __future__ import annotations

import json
import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Protocol

import numpy as np

from ivr.frames import LANGUAGES, AudioFrame, Say
from ivr.log import get_logger
from ivr.prompts.cache import TtsCache, cache_key
from ivr.prompts.clauses import clauses
from ivr.prompts.clips import has_number_clips, number_clips
from ivr.prompts.engine import DEFAULT_TTS, TtsEngine, load_tts
from ivr.prompts.errors import PromptError
from ivr.prompts.splice import (
    NUMBER_PIECES,
    Segment,
    Template,
    crossfade_join,
    edge_trim,
    fragment_texts,
    match,
    number_pieces,
    parse_template,
    silence,
)
from ivr.prompts.verbalize_nan import verbalize_amount_nan
from ivr.prompts.verbalize_zh import verbalize_amount_zh
from ivr.prompts.wavio import read_wav, resample

log = get_logger(__name__)

SAMPLE_RATES = (8000, 16000, 22050, 24000, 44100, 48000)
TEMPLATES_FILE = "templates.json"  # in the cache directory: the templates whose fixed parts were rendered
_VALUES_KEPT = 64  # slot values synthesized lately (memory only: a name said twice in a call)


class SayRenderer(Protocol):
    """What a call session needs of the prompts room (``PromptRenderer`` is one)."""

    def render(self, say: Say, sample_rate: int) -> np.ndarray:
        """Mono int16 samples of the prompt at ``sample_rate``."""
        ...


class PromptRenderer:
    """``tts``: an engine or its name (loaded lazily: cached prompts never load it).
    ``cache_dir``: synthesized-audio cache keyed by engine, voice, settings, text and rate
    (default ``~/.cache/ivr/tts`` or $IVR_TTS_CACHE).
    ``clips_dir``: recorded number clips (``<clips_dir>/nan-TW/num/*.wav``).
    ``audio_dir``: base for relative recording paths in ``Say.audio``.
    ``splice_numbers``: say amounts, dates and digits of a templated prompt from
    pre-rendered number pieces instead of synthesizing them (ivr/prompts/splice.py
    says why it is off by default)."""

    def __init__(self, tts: TtsEngine | str | None = None, cache_dir: str | Path | None = None,
                 clips_dir: str | Path | None = None, audio_dir: str | Path | None = None,
                 splice: bool = False, splice_numbers: bool = False) -> None:
        self.tts: TtsEngine = load_tts(tts or DEFAULT_TTS) if tts is None or isinstance(tts, str) else tts
        self.cache = TtsCache(cache_dir)
        self.clips_dir = Path(clips_dir) if clips_dir is not None else None
        self.audio_dir = Path(audio_dir) if audio_dir is not None else None
        self._warned: set[str] = set()
        self._recordings: dict[tuple[str, float, int], np.ndarray] = {}
        self._lock = threading.Lock()
        # templated prompts spliced from pre-rendered fixed parts (ivr/prompts/splice.py): off unless
        # asked for — an end-to-end check with Whisper heard the spliced balance prompt worse than
        # the whole sentence (帳戶 -> 丈夫); number pieces imply it
        self.splice = splice or splice_numbers
        self.splice_numbers = splice_numbers
        self._templates: dict[str, dict[str, Template]] | None = None  # language -> text -> template
        self._fragments: dict[tuple[str, int], np.ndarray] = {}
        self._values: OrderedDict[tuple[str, int], np.ndarray] = OrderedDict()
        self._pending: dict[tuple[str, int], Future[np.ndarray]] = {}

    # -- public ---------------------------------------------------------
    def render(self, say: Say, sample_rate: int) -> np.ndarray:
        """Mono int16 at ``sample_rate``."""
        _check(say.language, sample_rate, f"prompt {say.key}")
        if say.audio:
            path = self._resolve(say.audio)
            if path.is_file():
                return self._recording(path, sample_rate)
            if not say.text.strip():
                raise PromptError(f"recording for prompt {say.key!r} not found", str(path))
            self._warn_once(f"missing:{say.key}", "recording %s for prompt %s missing; synthesizing its text",
                            path, say.key)
        if not say.text.strip():
            raise PromptError(f"prompt {say.key!r} has neither audio nor text", f"prompt {say.key}")
        plan = None if self.is_cached(say.text, sample_rate) else self._plan(say, sample_rate)
        if plan is not None:
            return np.concatenate(list(self._spliced(plan, say, sample_rate)))
        return self.render_text(say.text, say.language, sample_rate, key=say.key)

    def render_parts(self, say: Say, sample_rate: int) -> Iterator[np.ndarray]:
        """The prompt in pieces to play one after another, each synthesized
        when it is asked for: clause by clause for a text not in the cache (a
        sentence made at call time: the first audio leaves after its first
        clause, the rest synthesizes while it plays), whole for a recording
        or a cached text (pre-warmed prompts stay one piece). A prompt made
        from a known template plays its pre-rendered fixed parts at once and
        synthesizes each slot value while the audio before it plays."""
        if not self.in_parts(say, sample_rate):
            yield self.render(say, sample_rate)
            return
        _check(say.language, sample_rate, f"prompt {say.key}")
        plan = self._plan(say, sample_rate)
        if plan is not None:
            yield from self._spliced(plan, say, sample_rate)
            return
        for part in clauses(say.text):
            yield self.render_text(part, say.language, sample_rate, key=say.key)

    def in_parts(self, say: Say, sample_rate: int) -> bool:
        """Whether ``render_parts`` cuts this prompt (a text of two clauses or
        more, or made from a known template; not in the cache, no recording)."""
        if say.audio or not say.text.strip() or self.is_cached(say.text, sample_rate):
            return False
        return len(clauses(say.text)) >= 2 or self._plan(say, sample_rate) is not None

    def render_frames(self, say: Say, sample_rate: int, ms: int = 20) -> list[AudioFrame]:
        """The rendered prompt cut into ``ms`` frames (last one zero-padded)."""
        pcm = self.render(say, sample_rate)
        n = sample_rate * ms // 1000
        pad = (-len(pcm)) % n
        pcm = np.concatenate([pcm, np.zeros(pad, np.int16)]) if pad else pcm
        return [AudioFrame.from_array(pcm[i:i + n], sample_rate, i / sample_rate) for i in range(0, len(pcm), n)]

    def render_text(self, text: str, language: str, sample_rate: int, key: str | None = None) -> np.ndarray:
        _check(language, sample_rate, f"prompt {key or text[:20]}")
        if not text.strip():
            raise PromptError("empty text to render", f"prompt {key or ''}")
        if language == "nan-TW":
            self._warn_once(f"nan:{key or text}", "no Taiwanese voice: prompt %s read by the Mandarin voice %s/%s",
                            key or "(text)", self.tts.name, self.tts.voice)
        k = self._key(text, sample_rate)
        hit = self.cache.get(k, sample_rate)
        if hit is not None:
            return hit
        samples, rate = self.tts.synthesize(text)
        out = resample(samples, rate, sample_rate)
        self.cache.put(k, out, sample_rate)
        return out

    def render_amount(self, value: object, language: str, sample_rate: int) -> np.ndarray:
        """An amount of money: Taiwanese from recorded number clips when ``clips_dir``
        has them, else the verbalized text through TTS."""
        if language == "nan-TW":
            if self.clips_dir is not None and has_number_clips(self.clips_dir, language):
                return number_clips(value, self.clips_dir, sample_rate, language=language)
            return self.render_text(verbalize_amount_nan(value), language, sample_rate, key="amount")
        return self.render_text(verbalize_amount_zh(value), language, sample_rate, key="amount")

    def is_cached(self, text: str, sample_rate: int) -> bool:
        return self.cache.path(self._key(text, sample_rate)).is_file()

    def prewarm(self, texts: Iterable[str], sample_rates: Iterable[int] = (8000, 16000)) -> int:
        """Synthesize every text not yet cached (e.g. all prompts of the flows at
        deploy time). Returns how many were synthesized."""
        made = 0
        for text in dict.fromkeys(t for t in texts if t and t.strip()):
            for rate in sample_rates:
                if not self.is_cached(text, rate):
                    self.render_text(text, "zh-TW", rate)
                    made += 1
        return made

    def add_templates(self, templates: Iterable[tuple[str, str]]) -> None:
        """Know these (language, template text) pairs: a prompt rendered from one
        is spliced once its fixed parts are in the cache. They are also listed in
        the cache directory, for the other processes that share it."""
        parsed = [t for lang, text in templates if (t := parse_template(text, lang)) is not None]
        self._known()  # what other processes listed stays listed
        self._register(parsed)
        self._save_templates()

    def _fragment_texts(self, templates: Iterable[tuple[str, str]]) -> list[str]:
        """The texts to pre-render for these templates: their fixed parts, and
        the number pieces when ``splice_numbers``."""
        parsed = [t for lang, text in templates if (t := parse_template(text, lang)) is not None]
        return fragment_texts(parsed) + (list(NUMBER_PIECES) if self.splice_numbers and parsed else [])

    def prewarm_templates(self, templates: Iterable[tuple[str, str]],
                          sample_rates: Iterable[int] = (8000, 16000)) -> int:
        """``add_templates`` and render their fragments into the cache.
        Returns how many fragments were synthesized."""
        templates = list(templates)
        self.add_templates(templates)
        return self.prewarm(self._fragment_texts(templates), sample_rates)

    # -- splicing (ivr/prompts/splice.py) --------------------------------
    def _plan(self, say: Say, rate: int) -> list[Segment] | None:
        """The segments of a prompt made from a known template whose fixed parts
        are all in the cache; None means synthesize it as before."""
        if not self.splice or say.audio or not say.text.strip():
            return None
        templates = self._known().get(say.language)
        if not templates:
            return None
        plan = match(say.text, list(templates.values()))
        if plan is None or any(s.kind == "fixed" and not self._has_fragment(s.text, rate) for s in plan):
            return None  # a fragment not rendered yet: whole synthesis, as before
        return plan

    def _spliced(self, plan: list[Segment], say: Say, rate: int) -> Iterator[np.ndarray]:
        """Cached pieces gathered into one part; before each value that must be
        synthesized, what is gathered is handed out so it plays meanwhile."""
        buf: list[np.ndarray] = []
        for seg in plan:
            if seg.kind == "pause":
                buf.append(silence(seg.seconds, rate))
                continue
            if seg.kind == "fixed":
                buf.append(self._fragment(seg.text, rate))
                continue
            ready = self._value_now(seg.text, rate)
            if ready is None:
                if buf:
                    yield crossfade_join(buf, rate)
                    buf = []
                ready = self._value(seg.text, say, rate)
            buf.append(ready)
        if buf:
            yield crossfade_join(buf, rate)

    def _has_fragment(self, text: str, rate: int) -> bool:
        with self._lock:
            if (text, rate) in self._fragments:
                return True
        return self.is_cached(text, rate)

    def _fragment(self, text: str, rate: int) -> np.ndarray:
        with self._lock:
            hit = self._fragments.get((text, rate))
        if hit is None:
            pcm = self.cache.get(self._key(text, rate), rate)
            if pcm is None:  # removed since the plan was made
                pcm = self.render_text(text, "zh-TW", rate, key="fragment")
            hit = edge_trim(pcm, rate)
            hit.setflags(write=False)
            with self._lock:
                self._fragments[(text, rate)] = hit
        return hit

    def _value_now(self, text: str, rate: int) -> np.ndarray | None:
        """A value with no synthesis to wait for: said lately, or (``splice_numbers``)
        a number whose pieces are all rendered."""
        with self._lock:
            hit = self._values.get((text, rate))
            if hit is not None:
                self._values.move_to_end((text, rate))
                return hit
        pieces = number_pieces(text) if self.splice_numbers else None
        if pieces and all(self._has_fragment(p, rate) for p in pieces):
            return crossfade_join([edge_trim(self._fragment(p, rate), rate, keep_ms=10) for p in pieces], rate)
        return None

    def _value(self, text: str, say: Say, rate: int) -> np.ndarray:
        """A slot value synthesized now, once for all the calls that need it at
        the same moment; kept in memory only (personal data stays off the disk)."""
        key = (text, rate)
        with self._lock:
            hit = self._values.get(key)
            pending = self._pending.get(key) if hit is None else None
            owner = hit is None and pending is None
            if owner:
                pending = self._pending[key] = Future()
        if hit is not None:
            return hit
        assert pending is not None
        if not owner:
            return pending.result()
        try:
            if say.language == "nan-TW":
                self._warn_once(f"nan:{say.key}", "no Taiwanese voice: prompt %s read by the Mandarin voice %s/%s",
                                say.key, self.tts.name, self.tts.voice)
            samples, native = self.tts.synthesize(text)
            out = edge_trim(resample(samples, native, rate), rate)
            out.setflags(write=False)
            with self._lock:
                self._values[key] = out
                while len(self._values) > _VALUES_KEPT:
                    self._values.popitem(last=False)
            pending.set_result(out)
            return out
        except BaseException as exc:
            pending.set_exception(exc)
            raise
        finally:
            with self._lock:
                self._pending.pop(key, None)

    def _known(self) -> dict[str, dict[str, Template]]:
        if self._templates is None:
            self._register(self._load_templates())
        assert self._templates is not None
        return self._templates

    def _register(self, templates: Iterable[Template]) -> None:
        with self._lock:
            known = self._templates if self._templates is not None else {}
            for t in templates:
                known.setdefault(t.language, {})[t.text] = t
            self._templates = known

    def _templates_path(self) -> Path:
        return self.cache.directory / TEMPLATES_FILE

    def _load_templates(self) -> list[Template]:
        path = self._templates_path()
        try:
            rows = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:
            log.warning("prompt templates list %s unreadable, ignoring: %s", path, exc)
            return []
        if not isinstance(rows, list):
            log.warning("prompt templates list %s is not a list, ignoring", path)
            return []
        return [t for r in rows if isinstance(r, list) and len(r) == 2 and all(isinstance(x, str) for x in r)
                and (t := parse_template(r[1], r[0])) is not None]

    def _save_templates(self) -> None:
        rows = sorted([lang, t] for lang, ts in self._known().items() for t in ts)
        path = self._templates_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(rows, f, ensure_ascii=False, indent=0)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    # -- internals ------------------------------------------------------
    def _key(self, text: str, sample_rate: int) -> str:
        voice = self.tts.voice + "|" + str(getattr(self.tts, "variant", ""))
        return cache_key(self.tts.name, voice, text, sample_rate)

    def _resolve(self, audio: str) -> Path:
        p = Path(audio)
        return p if p.is_absolute() or self.audio_dir is None else self.audio_dir / p

    def _recording(self, path: Path, sample_rate: int) -> np.ndarray:
        k = (str(path.resolve()), path.stat().st_mtime, sample_rate)
        with self._lock:
            hit = self._recordings.get(k)
        if hit is not None:
            return hit
        samples, rate = read_wav(path)
        out = resample(samples, rate, sample_rate)
        out.setflags(write=False)  # shared between calls
        with self._lock:
            self._recordings[k] = out
        return out

    def _warn_once(self, key: str, msg: str, *args: object) -> None:
        with self._lock:
            if key in self._warned:
                return
            self._warned.add(key)
        log.warning(msg, *args)


def _check(language: str, sample_rate: int, where: str) -> None:
    if language not in LANGUAGES:
        raise PromptError(f"unknown language {language!r} (want one of {', '.join(LANGUAGES)})", where)
    if sample_rate not in SAMPLE_RATES:
        raise PromptError(f"unsupported sample rate {sample_rate} (want 8000 or 16000)", where)
