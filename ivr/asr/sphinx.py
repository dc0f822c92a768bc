"""pocketsphinx 5 on the 8 kHz Mandarin model, one JSGF grammar per dialog
step: the caller says one of the expected phrases (Mandarin, or Taiwanese
mapped onto the Mandarin phones, see ``ivr.asr.pronounce``).

Each expected phrase becomes one dictionary word (``p0``, ``p1``, ...) whose
pronunciation is the whole phrase, so the grammar is a flat choice and the
hypothesis maps straight back to the phrase text. Audio is resampled to
8 kHz and decoded as it arrives, so ``finish`` only closes the utterance."""
from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ivr.asr.base import Engine, EngineCapabilities, Recognizer
from ivr.asr.pronounce import Lexicon
from ivr.audio.resample import Resampler
from ivr.errors import IvrError, ModelCorruptError
from ivr.frames import Transcript
from ivr.log import get_logger

log = get_logger(__name__)
MODEL_RATE = 8000
HMM = "hmm/tdt_sc_8k"
DICT = "lm/mandarin_notone.dic"


class SphinxEngine(Engine):
    name = "sphinx"
    # a JSGF grammar per step and nothing else: it cannot take free speech
    capabilities = EngineCapabilities(grammar=True, free_speech=False, streaming=False, languages=("zh-TW", "nan-TW"))

    def __init__(self, model_dir: Path, beam: float = 1e-60, wbeam: float = 1e-40) -> None:
        super().__init__(model_dir)
        t0 = time.perf_counter()
        self.hmm = self.model_dir / HMM
        self.lexicon = Lexicon(self.model_dir / DICT)
        self.phone_set = self._phones()
        self.beam, self.wbeam = beam, wbeam
        # decoders start from a one-word dictionary (loading the full one per call
        # is slow); each grammar adds its phrase words
        self._tmp = tempfile.TemporaryDirectory(prefix="ivr-sphinx-")
        self._noise_dict = Path(self._tmp.name) / "start.dic"
        self._noise_dict.write_text("sil\tSIL\n", encoding="utf-8")
        self._lock = threading.Lock()
        self.recognizer(MODEL_RATE).close()  # fail here, not mid-call, if the model is broken
        self.load_seconds = time.perf_counter() - t0

    def _phones(self) -> frozenset[str]:
        """The model's base phones, read from the binary mdef: after the text
        header come the CI phone names as one run of NUL-terminated strings."""
        try:
            data = (self.hmm / "mdef").read_bytes()
        except OSError as e:
            raise ModelCorruptError(f"cannot read mdef: {e}", "model pocketsphinx-zh") from None
        marker = b"END FILE FORMAT DESCRIPTION"
        start = data.find(marker)
        if start < 0:
            raise ModelCorruptError("mdef is not a binary sphinx model definition", str(self.hmm / "mdef"))
        run: list[str] = []
        for tok in data[start + len(marker):start + 200000].split(b"\0"):
            word = tok[-12:].decode("latin-1")
            if tok and len(tok) <= 12 and all(c.isalnum() or c in "+_" for c in word):
                run.append(word)
            elif len(run) >= 5:
                break
            else:
                run = [word] if tok and word[-1:].isalnum() else []
        phones = frozenset(w for w in run if not w.startswith("+"))
        if len(phones) < 10:
            raise ModelCorruptError("no phone list found in mdef", str(self.hmm / "mdef"))
        return phones

    def decoder(self, beam: float | None = None, wbeam: float | None = None, bestpath: bool = True):
        from pocketsphinx import Config, Decoder

        cfg = Config(hmm=str(self.hmm), dict=str(self._noise_dict), samprate=MODEL_RATE, lm=None,
                     beam=beam or self.beam, wbeam=wbeam or self.wbeam, loglevel="ERROR", bestpath=bestpath)
        try:
            with self._lock:
                return Decoder(cfg)
        except (RuntimeError, ValueError) as e:
            raise ModelCorruptError(f"pocketsphinx cannot load {self.hmm}: {e}", "model pocketsphinx-zh") from None

    def pronounce(self, phrase: str, language: str) -> list[str]:
        """The phrase as per-word (Mandarin) or per-syllable (Taiwanese) phone strings."""
        if language.startswith("nan"):
            words = self.lexicon.taiwanese_words(phrase)
        else:
            words = self.lexicon.mandarin_words(phrase)
        unknown = sorted({p for w in words for p in w.split() if p not in self.phone_set})
        if unknown:
            raise IvrError(f"phrase {phrase!r} maps to phones the model lacks: {unknown}", "asr sphinx")
        return words

    def recognizer(self, sample_rate: int = 16000) -> SphinxRecognizer:
        return SphinxRecognizer(self, sample_rate)

    def close(self) -> None:
        self._tmp.cleanup()


class SphinxRecognizer(Recognizer):
    engine_name = "sphinx"

    def __init__(self, engine: SphinxEngine, sample_rate: int) -> None:
        super().__init__(sample_rate)
        self.engine = engine
        self.decoder = engine.decoder()
        self._phrases: list[str] = []
        self._grammars = 0
        self._resampler: Resampler | None = None
        self._in_utt = False
        self._frames = 0

    def set_expected(self, phrases: Sequence[str] | None, language: str = "zh-TW") -> None:
        super().set_expected(phrases, language)
        self.reset()
        if self.expected is None:
            self._phrases = []
            return
        # one grammar word per phrase, pronounced as the whole phrase: measured on
        # real Taiwanese, 28/33 at RTF 0.03, against 27/33 at RTF 0.12 with one
        # word per syllable (silence allowed between them, but the search is wider)
        alternatives, phrases = [], []
        for p in self.expected:
            chunks = self.engine.pronounce(p, language)
            if not chunks:
                log.warning("sphinx: no pronunciation for an expected phrase; skipped")
                continue
            word = f"p{self._grammars}_{len(phrases)}"
            self.decoder.add_word(word, " ".join(chunks), update=False)
            alternatives.append(word)
            phrases.append(p)
        if not alternatives:
            raise IvrError("none of the expected phrases could be pronounced", "asr sphinx")
        self._grammars += 1
        name = f"g{self._grammars}"
        jsgf = "#JSGF V1.0;\ngrammar ivr;\npublic <turn> = " + " | ".join(alternatives) + ";\n"
        self.decoder.add_jsgf_string(name, jsgf)
        self.decoder.activate_search(name)
        self._phrases = phrases

    def _feed(self, x: np.ndarray) -> None:
        if self.sample_rate != MODEL_RATE:
            if self._resampler is None:
                self._resampler = Resampler(self.sample_rate, MODEL_RATE)
            x = self._resampler.process(x)
        if x.size:
            if not self._in_utt:
                self.decoder.start_utt()
                self._in_utt = True
            self.decoder.process_raw(x.astype("<i2").tobytes(), False, False)
            self._frames += x.size

    def accept(self, pcm: bytes) -> Transcript | None:
        x = self._samples(pcm)
        if self._phrases and x.size:
            self._feed(x)
        return None

    def finish(self) -> Transcript:
        t0 = time.perf_counter()
        text, conf = "", 0.0
        if self._phrases and self._resampler is not None:
            tail = self._resampler.flush()
            if tail.size:
                self._feed(tail)
        if self._in_utt:
            self.decoder.end_utt()
            self._in_utt = False
            hyp = self.decoder.hyp()
            if hyp is not None and hyp.hypstr:
                # words are p<grammar>_<phrase index>
                text = self._phrases[int(hyp.hypstr.split()[0].split("_")[1])]
                # the binding gives the lattice posterior, already linear (weak: about 0.5 or 1)
                conf = float(hyp.prob)
        self._resampler = None
        self._frames = 0
        return self._transcript(text, True, conf, t0)

    def reset(self) -> None:
        if self._in_utt:
            self.decoder.end_utt()
            self._in_utt = False
        self._resampler = None
        self._frames = 0

    def close(self) -> None:
        self.reset()
