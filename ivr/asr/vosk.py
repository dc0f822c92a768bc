"""Vosk (Kaldi) engine: streaming partials, and a grammar per dialog step
(``SetGrammar``) on models with a lookahead graph (``graph/Gr.fst``). Any
user-supplied vosk model folder works; vosk resamples input itself."""
from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path

from ivr.asr.base import Engine, EngineCapabilities, Recognizer
from ivr.asr.text import to_traditional
from ivr.errors import ModelCorruptError
from ivr.frames import Transcript
from ivr.log import get_logger

log = get_logger(__name__)
UNK = "[unk]"


class VoskEngine(Engine):
    name = "vosk"

    def __init__(self, model_dir: Path, partials: bool = True) -> None:
        super().__init__(model_dir)
        import vosk

        vosk.SetLogLevel(-1)
        t0 = time.perf_counter()
        try:
            self.model = vosk.Model(str(model_dir))
        except Exception as e:  # vosk raises a bare Exception on any load failure
            raise ModelCorruptError(f"vosk cannot load {model_dir}: {e}", f"model {model_dir.name}") from None
        self.load_seconds = time.perf_counter() - t0
        self.partials = partials
        # grammars need the lookahead (HCLr + Gr) graph; static HCLG models ignore them
        self.supports_grammar = (self.model_dir / "graph" / "Gr.fst").is_file()

    @property
    def capabilities(self) -> EngineCapabilities:
        # the language is the user-supplied model's own
        return EngineCapabilities(grammar=self.supports_grammar, free_speech=True, streaming=self.partials,
                                  languages=())

    def recognizer(self, sample_rate: int = 16000) -> VoskRecognizer:
        return VoskRecognizer(self, sample_rate)


class VoskRecognizer(Recognizer):
    engine_name = "vosk"

    def __init__(self, engine: VoskEngine, sample_rate: int) -> None:
        super().__init__(sample_rate)
        self.engine = engine
        self._rec = self._new()
        self._last_partial = ""
        self._finals: list[str] = []
        self._confs: list[float] = []

    def _new(self):
        import vosk

        if self.expected and self.engine.supports_grammar:
            words = [p.lower() if p.isascii() else p for p in self.expected]
            rec = vosk.KaldiRecognizer(self.engine.model, float(self.sample_rate),
                                       json.dumps([*words, UNK], ensure_ascii=False))
        else:
            if self.expected:
                log.info("vosk model %s has no grammar support; free speech", self.engine.model_dir.name)
            rec = vosk.KaldiRecognizer(self.engine.model, float(self.sample_rate))
        rec.SetWords(True)
        return rec

    def set_expected(self, phrases: Sequence[str] | None, language: str = "zh-TW") -> None:
        super().set_expected(phrases, language)
        self.reset()

    def _collect(self, result: str) -> None:
        r = json.loads(result)
        text = r.get("text", "").replace(UNK, "").strip()
        if text:
            self._finals.append(text)
            words = r.get("result") or []
            self._confs.append(sum(w.get("conf", 1.0) for w in words) / len(words) if words else 1.0)

    def _text(self, parts: list[str]) -> str:
        text = " ".join(parts)
        if self.language.startswith(("zh", "nan")):
            # Chinese models put spaces between words
            text = to_traditional(text.replace(" ", ""))
        return text

    def accept(self, pcm: bytes) -> Transcript | None:
        t0 = time.perf_counter()
        self._samples(pcm)
        if not pcm:
            return None
        if self._rec.AcceptWaveform(pcm):
            # vosk's own endpoint inside our turn: keep the segment, carry on
            self._collect(self._rec.Result())
            return None
        if not self.engine.partials:
            return None
        partial = json.loads(self._rec.PartialResult()).get("partial", "").replace(UNK, "").strip()
        if partial and partial != self._last_partial:
            self._last_partial = partial
            return self._transcript(self._text([*self._finals, partial]), False, 0.5, t0)
        return None

    def finish(self) -> Transcript:
        t0 = time.perf_counter()
        self._collect(self._rec.FinalResult())
        text = self._text(self._finals)
        conf = sum(self._confs) / len(self._confs) if self._confs else 0.0
        self._finals, self._confs, self._last_partial = [], [], ""
        return self._transcript(text, True, conf if text else 0.0, t0)

    def reset(self) -> None:
        self._rec = self._new()
        self._finals, self._confs, self._last_partial = [], [], ""
