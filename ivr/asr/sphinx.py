"""pocketsphinx 5 on the 8 kHz Mandarin model, one JSGF grammar per dialog
step: the caller says one of the expected phrases (Mandarin, or Taiwanese
mapped onto the Mandarin phones, see ``ivr.asr.pronounce``).

Each expected phrase becomes one dictionary word (``p<grammar>_<phrase>_<variant>``)
whose pronunciation is the whole phrase, so the grammar is a flat choice and
the hypothesis maps straight back to the phrase text. Audio is resampled to
8 kHz (8 kHz telephone audio goes in as is) and decoded as it arrives, by
the grammar and by a free phone loop side by side; ``finish`` compares the
two (``ivr.asr.confidence``) and answers "" (rejection) when the grammar's
answer is not clearly better than what the loop heard. ``last`` holds the
decision with its reason."""
from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ivr.asr import sphinx_model as sm
from ivr.asr.base import Engine, EngineCapabilities, Recognizer
from ivr.asr.confidence import (
    COHORT_CAP,
    COHORT_WEIGHT,
    DECOY_MARGIN,
    DURATION_WEIGHT,
    FRAMES_PER_PHONE,
    LOOP_LW,
    NON_SPEECH,
    NUMBERS,
    TAIWANESE,
    Calibration,
    Decision,
    llr_per_frame,
    speech_frames,
    turn_score,
    voiced_fraction,
)
from ivr.asr.phone_learning import learned_words
from ivr.asr.pronounce import Lexicon, taiwanese_variant_words, with_variants
from ivr.asr.sphinx_accept import AcceptModel, channel_of, load_model, phone_agreement, turn_features
from ivr.asr.taiwanese_numbers import is_number_vocabulary, loop_jsgf, token_readings, vocabulary
from ivr.audio.resample import Resampler
from ivr.errors import IvrError, ModelCorruptError
from ivr.frames import Transcript
from ivr.log import get_logger

log = get_logger(__name__)
MODEL_RATE = 8000
HMM = "hmm/tdt_sc_8k"
DICT = "lm/mandarin_notone.dic"
MIN_SPEECH_FRAMES = 10  # under 0.1 s of speech is no answer
END_SLACK_FRAMES = 5
# Taiwanese words every nan-TW phrase is measured against (ivr.asr.confidence: a cohort
# decoded apart; inside a number loop, a decoy winning is a rejection). Measured on the
# phrase test's held-out half when they competed inside the grammar, with the phone-loop
# threshold refitted each time (in-grammar accepted / false accepts, clean and telephone):
# none 48 %/2 %, 48 %/4 %; 50 decoys 53 %/4 %, 58 %/4 %; 100 decoys 56 %/5 %, 56 %/9 %
DECOYS = 50
# share of loud frames with a pitch; measured on the phrase test: Taiwanese phrases
# >= 0.07 even at 10 dB SNR, noise bursts, coughs, clicks and silence 0.0
MIN_VOICED = 0.04
# word insertion penalty of a nan-TW number loop. Measured on number syllables cut from the
# real sentences, telephone (bench/taiwanese_numbers.py; words right/accepted of 49, PIN-like
# spliced strings right/accepted of 40, non-number clips accepted of 136, espeak Mandarin
# digit strings right of 4): 0.65 (pocketsphinx's) 1/31, 0/40, 104, 0; 0.1 0/6, 0/39, 54, 0;
# 0.01 0/0, 0/27, 8, 0; 0.001 0/0, 0/9, 2, 0; 1e-8 nothing accepted. No setting reads a
# digit string right, and a misheard PIN counts toward the bank's lockout: the safe end is
# shipped, and the dialog asks for keys (ivr/dialog/policy.py).
NUMBER_WIP = 1e-8
# main Taiwanese reading: "rules" (ivr.asr.pronounce), "learned" (the table learned from
# real speech, ivr.asr.phone_learning) or "both" (learned as a second pronunciation)
TAIWANESE_PHONES = "rules"
# mean cepstrum of the dev half of the real Taiwanese sentences (bench/taiwanese_learn.py --cmn),
# wideband (16 kHz resampled to 8 kHz) and through the telephone channel; the model's own
# initial value (feat.params) is 54,-1,2
# how a nan-TW phrase answer is accepted: "learned" (the logistic model fitted on the dev half,
# ivr/asr/sphinx_accept.json) or "calibration" (the hand-set score and threshold of ivr.asr.confidence)
ACCEPT = "learned"
CMNINIT = {
    "wideband": "42.95,-0.98,-1.51,-1.49,-1.29,-1.08,-1.16,-1.45,-1.22,-0.30,-0.39,0.20,0.18",
    "telephone": "41.58,-4.61,-5.52,-3.35,-3.11,-0.95,-1.12,-0.21,-0.35,0.99,0.40,1.08,0.69",
}


class SphinxEngine(Engine):
    name = "sphinx"
    # a JSGF grammar per step and nothing else: it cannot take free speech
    capabilities = EngineCapabilities(grammar=True, free_speech=False, streaming=False, languages=("zh-TW", "nan-TW"))

    def __init__(self, model_dir: Path, beam: float = 1e-60, wbeam: float = 1e-40,
                 calibration: Calibration = TAIWANESE, taiwanese_variants: bool = False,
                 n_decoys: int = DECOYS, taiwanese_phones: str = TAIWANESE_PHONES,
                 cmninit: bool = True, decoy_margin: float = DECOY_MARGIN,
                 cohort_weight: float = COHORT_WEIGHT, duration_weight: float = DURATION_WEIGHT,
                 accept: str = ACCEPT, record_features: bool = False) -> None:
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
        if taiwanese_phones not in ("rules", "learned", "both"):
            raise IvrError(f"taiwanese_phones must be rules, learned or both, not {taiwanese_phones!r}", "asr sphinx")
        self.taiwanese_phones = taiwanese_phones
        self._phone_lm = Path(self._tmp.name) / "taiwanese-phones.arpa"
        self._phone_lm.write_text(self._loop_lm(), encoding="utf-8")
        self.calibration = calibration
        if accept not in ("learned", "calibration"):
            raise IvrError(f"accept must be learned or calibration, not {accept!r}", "asr sphinx")
        # nan-TW phrase answers: the learned model (ivr.asr.sphinx_accept) or the hand-set calibration
        self.accept_model: AcceptModel | None = load_model() if accept == "learned" else None
        # every feature, even one the model does not use (the runner-up costs a second decode): for refits
        self.record_features = record_features
        self.taiwanese_variants = taiwanese_variants
        self.cmninit = cmninit
        self.n_decoys = n_decoys
        self.decoy_margin = decoy_margin
        self.cohort_weight = cohort_weight
        self.duration_weight = duration_weight
        self._decoys: list[list[str]] | None = None
        self._lock = threading.Lock()
        self.recognizer(MODEL_RATE).close()  # fail here, not mid-call, if the model is broken
        self.load_seconds = time.perf_counter() - t0

    def _phones(self) -> frozenset[str]:
        return sm.read_mdef_phones(self.hmm)

    def decoder(self, beam: float | None = None, wbeam: float | None = None, bestpath: bool = True,
                wip: float | None = None, cmninit: str | None = None):
        from pocketsphinx import Config, Decoder

        cfg = Config(hmm=str(self.hmm), dict=str(self._noise_dict), samprate=MODEL_RATE, lm=None,
                     beam=beam or self.beam, wbeam=wbeam or self.wbeam, loglevel="ERROR", bestpath=bestpath)
        if wip is not None:
            cfg["wip"] = wip
        if cmninit is not None:
            cfg["cmninit"] = cmninit
        try:
            with self._lock:
                return Decoder(cfg)
        except (RuntimeError, ValueError) as e:
            raise ModelCorruptError(f"pocketsphinx cannot load {self.hmm}: {e}", "model pocketsphinx-zh") from None

    def _loop_lm(self) -> str:
        # the loop hears Taiwanese syllables as the grammar's main reading spells them
        return sm.loop_lm(self.lexicon.words, self.phone_set, learned=self.taiwanese_phones == "learned")

    def decoys(self) -> list[list[str]]:
        """Taiwanese words that compete with every Taiwanese grammar (``pick_decoys``)."""
        if self._decoys is None:
            self._decoys = sm.pick_decoys(self.n_decoys, self._taiwanese_words, self.phone_set)
        return self._decoys

    def loop_decoder(self, cmninit: str | None = None):
        """A decoder running the free phone loop (Taiwanese phonotactics) that
        every grammar answer is measured against (``ivr.asr.confidence``)."""
        from pocketsphinx import Config, Decoder

        cfg = Config(hmm=str(self.hmm), dict=str(self._noise_dict), samprate=MODEL_RATE, lm=None,
                     allphone=str(self._phone_lm), lw=LOOP_LW, beam=self.beam, wbeam=self.wbeam,
                     loglevel="ERROR")
        if cmninit is not None:
            cfg["cmninit"] = cmninit
        try:
            with self._lock:
                return Decoder(cfg)
        except (RuntimeError, ValueError) as e:
            raise ModelCorruptError(f"pocketsphinx cannot load its phone loop: {e}", str(self._phone_lm)) from None

    def pronunciations(self, phrase: str, language: str) -> list[list[str]]:
        """The phrase's pronunciations (the first is the main one), each as
        per-word or per-syllable phone strings; extra Taiwanese readings only
        when ``taiwanese_variants`` is on."""
        nan = language.startswith("nan")
        extra = ([learned_words(phrase)] if nan and self.taiwanese_phones == "both" else []) + \
            (taiwanese_variant_words(phrase) if nan and self.taiwanese_variants else [])
        return with_variants(self.pronounce(phrase, language), extra, self.phone_set)

    def pronounce(self, phrase: str, language: str) -> list[str]:
        """The phrase as per-word (Mandarin) or per-syllable (Taiwanese) phone strings."""
        if language.startswith("nan"):
            words = self._taiwanese_words(phrase)
        else:
            words = self.lexicon.mandarin_words(phrase)
        unknown = sorted({p for w in words for p in w.split() if p not in self.phone_set})
        if unknown:
            raise IvrError(f"phrase {phrase!r} maps to phones the model lacks: {unknown}", "asr sphinx")
        return words

    def model_cmninit(self) -> str:
        """The model's own initial cepstral mean (feat.params ``-cmninit``)."""
        return sm.read_model_cmninit(self.hmm)

    def cmninit_for(self, sample_rate: int) -> str | None:
        """Initial cepstral mean for audio arriving at ``sample_rate`` (8 kHz is a
        telephone line), or None for the model's own."""
        if not self.cmninit:
            return None
        return CMNINIT["telephone" if sample_rate <= MODEL_RATE else "wideband"]

    def _taiwanese_words(self, phrase: str) -> list[str]:
        """The main Taiwanese reading: the learned table or the hand-written rules."""
        if self.taiwanese_phones == "learned":
            return learned_words(phrase)
        return self.lexicon.taiwanese_words(phrase)

    def recognizer(self, sample_rate: int = 16000) -> SphinxRecognizer:
        return SphinxRecognizer(self, sample_rate)

    def close(self) -> None:
        self._tmp.cleanup()


class SphinxRecognizer(Recognizer):
    engine_name = "sphinx"

    def __init__(self, engine: SphinxEngine, sample_rate: int) -> None:
        super().__init__(sample_rate)
        self.engine = engine
        # the lattice best path was measured to drop a grammar's last words
        # (ivr.asr.align); the Viterbi path of the grammar search does not
        # first-turn cepstral mean: the model's default is far from Taiwanese speech on
        # either channel (ivr.asr.sphinx.CMNINIT); later turns adapt it as they come
        self._cmninit = engine.cmninit_for(sample_rate)
        self.decoder = engine.decoder(bestpath=False, cmninit=self._cmninit)
        self._phrase_decoder = self.decoder
        self._number_decoder = None  # a nan-TW number loop's own decoder (its word insertion penalty)
        self._loop = engine.loop_decoder(cmninit=self._cmninit)
        # the decoys alone (Taiwanese words outside every grammar), for the confidence
        self._cohort = engine.decoder(bestpath=False, cmninit=self._cmninit) if engine.n_decoys else None
        self._cohort_active = False
        self._number_loop = False
        self._phrases: list[str] = []
        self._words: dict[str, int] = {}
        self._grammar = ""  # the active phrase grammar's search name
        self._searches: set[str] = set()  # grammars without one phrase, for the runner-up
        self._second: sm.GrammarDecoder | None = None  # the runner-up's decoder, made when first needed
        self._cmn_start = ""  # cepstral mean when the turn started (the runner-up re-decode starts there too)
        self._grammars = 0
        self._resampler: Resampler | None = None
        self._in_utt = False
        self._frames = 0
        self._audio: list[np.ndarray] = []  # this turn at 8 kHz, for the voicing check
        self.last: Decision | None = None

    def set_expected(self, phrases: Sequence[str] | None, language: str = "zh-TW") -> None:
        super().set_expected(phrases, language)
        self.reset()
        self.decoder = self._phrase_decoder
        self._number_loop = False
        self._cohort_active = False
        if self.expected is None:
            self._phrases = []
            return
        if language.startswith("nan") and is_number_vocabulary(self.expected):
            return self._set_number_loop()
        # one grammar word per phrase (and per extra pronunciation), pronounced
        # as the whole phrase: measured on real Taiwanese, 28/33 at RTF 0.03,
        # against 27/33 at RTF 0.12 with one word per syllable
        alternatives, phrases, words = [], [], {}
        for p in self.expected:
            variants = self.engine.pronunciations(p, language)
            if not variants:
                log.warning("sphinx: no pronunciation for an expected phrase; skipped")
                continue
            for v, chunks in enumerate(variants):
                word = f"p{self._grammars}_{len(phrases)}_{v}"
                self.decoder.add_word(word, " ".join(chunks), update=False)
                alternatives.append(word)
                words[word] = len(phrases)
            phrases.append(p)
        if not alternatives:
            raise IvrError("none of the expected phrases could be pronounced", "asr sphinx")
        self._grammars += 1
        name = f"g{self._grammars}"
        self.decoder.add_jsgf_string(name, sm.choice_jsgf(alternatives))
        self.decoder.activate_search(name)
        self._grammar = name
        if language.startswith("nan") and self._cohort is not None:
            # decoys: other Taiwanese words, decoded apart; how the best phrase compares
            # with the best of them is part of the confidence (ivr.asr.confidence)
            said = {" ".join(c) for v in (self.engine.pronunciations(p, language) for p in phrases) for c in v}
            decoys = []
            for k, chunks in enumerate(self.engine.decoys()):
                if " ".join(chunks) not in said:
                    decoys.append(f"d_{k}")
                    if self._cohort.lookup_word(decoys[-1]) is None:
                        self._cohort.add_word(decoys[-1], " ".join(chunks), update=False)
            if decoys:
                self._cohort.add_jsgf_string(name, sm.choice_jsgf(decoys))
                self._cohort.activate_search(name)
                self._cohort_active = True
        self._phrases, self._words = phrases, words

    def _set_number_loop(self) -> None:
        """A Taiwanese digit/PIN/date/amount step: any run of number words, each
        with its Taiwanese and Mandarin-borrowed readings (``ivr.asr.taiwanese_numbers``)."""
        eng = self.engine
        if self._number_decoder is None:
            self._number_decoder = eng.decoder(bestpath=False, wip=NUMBER_WIP, cmninit=self._cmninit)
        self.decoder = self._number_decoder
        self._number_loop = True
        phrases: list[str] = []
        words: dict[str, int] = {}
        tokens: list[str] = []
        for token in vocabulary(self.expected or ()):
            for v, (text, chunks) in enumerate(token_readings(token, eng.lexicon.taiwanese_words,
                                                              eng.lexicon.mandarin_words)):
                if not all(p in eng.phone_set for c in chunks for p in c.split()):
                    continue
                word = f"n{self._grammars}_{len(phrases)}_{v}"
                self.decoder.add_word(word, " ".join(chunks), update=False)
                tokens.append(word)
                words[word] = len(phrases)
                phrases.append(text)
        if not tokens:
            raise IvrError("none of the number words could be pronounced", "asr sphinx")
        decoys = []
        for k, chunks in enumerate(eng.decoys() if eng.n_decoys else []):
            word = f"d{self._grammars}_{k}"
            self.decoder.add_word(word, " ".join(chunks), update=False)
            decoys.append(word)
            words[word] = -1
        self._grammars += 1
        name = f"g{self._grammars}"
        self.decoder.add_jsgf_string(name, loop_jsgf(tokens, decoys))
        self.decoder.activate_search(name)
        self._phrases, self._words = phrases, words

    def _feed(self, x: np.ndarray) -> None:
        if self.sample_rate != MODEL_RATE:
            if self._resampler is None:
                self._resampler = Resampler(self.sample_rate, MODEL_RATE)
            x = self._resampler.process(x)
        if x.size:
            if not self._in_utt:
                if self._cohort_active:
                    self._cmn_start = self.decoder.get_cmn(False)
                self.decoder.start_utt()
                self._loop.start_utt()
                if self._cohort_active and self._cohort is not None:
                    self._cohort.start_utt()
                self._in_utt = True
            raw = x.astype("<i2").tobytes()
            self.decoder.process_raw(raw, False, False)
            self._loop.process_raw(raw, False, False)
            if self._cohort_active and self._cohort is not None:
                self._cohort.process_raw(raw, False, False)
            self._audio.append(x)
            self._frames += x.size

    def accept(self, pcm: bytes) -> Transcript | None:
        x = self._samples(pcm)
        if self._phrases and x.size:
            self._feed(x)
        return None

    def finish(self) -> Transcript:
        t0 = time.perf_counter()
        if self._phrases and self._resampler is not None:
            tail = self._resampler.flush()
            if tail.size:
                self._feed(tail)
        decision = Decision("", "", None, 0.0, False, "no audio" if self._phrases else "no grammar")
        if self._in_utt:
            self.decoder.end_utt()
            self._loop.end_utt()
            if self._cohort_active and self._cohort is not None:
                self._cohort.end_utt()
            self._in_utt = False
            decision = self._decide()
        self.last = decision
        if decision.reason and decision.heard:
            log.debug("sphinx: rejected (%s, llr %s)", decision.reason, decision.llr)
        self._resampler = None
        self._frames = 0
        self._audio = []
        return self._transcript(decision.text, True, decision.confidence if decision.accepted else 0.0, t0)

    def _decide(self) -> Decision:
        """The grammar's answer, checked as ``ivr.asr.confidence`` describes:
        accepted, or rejected with a reason."""
        hyp = self.decoder.hyp()
        said = hyp.hypstr.split() if hyp is not None and hyp.hypstr else []
        if not said or any(w not in self._words for w in said):
            return Decision("", "", None, 0.0, False, "no grammar path")
        gsegs = self._segments(self.decoder)
        if not gsegs:
            # no grammar path reached the end of the turn; pocketsphinx then answers
            # with the best partial path, whose score covers only part of the audio
            return Decision("", "", None, 0.0, False, "speech beyond the grammar")
        if any(self._words[w] < 0 for w in said):  # a decoy inside a number loop won
            return Decision("", "", None, 0.0, False, "closer to a word outside the grammar")
        # one phrase, or a run of number words (a nan-TW digit loop) read as their text
        heard = "".join(self._phrases[self._words[w]] for w in said)
        voiced = voiced_fraction(np.concatenate(self._audio) if self._audio else np.zeros(0))
        if voiced < MIN_VOICED:
            return Decision(heard, "", None, 0.0, False, "no voiced speech")
        loop = self._loop.hyp()
        if loop is None or hyp.score <= 0 or loop.score <= 0:  # scores come back linear; 0 = underflow
            return Decision(heard, "", None, 0.0, False, "no usable score")
        lsegs = [(sg.word, sg.start_frame, sg.end_frame) for sg in self._loop.seg() or ()]
        frames = speech_frames(gsegs, lsegs)
        if frames < MIN_SPEECH_FRAMES:
            return Decision(heard, "", None, 0.0, False, "no speech")
        logmath = self.decoder.get_logmath()
        grammar_score = logmath.log(hyp.score)
        llr = llr_per_frame(grammar_score, logmath.log(loop.score), frames)
        margin = self._cohort_margin(grammar_score, frames)
        phones = sum(len((self.decoder.lookup_word(w) or "").split()) for w in said)
        eng = self.engine
        features = None
        if self._cohort_active:  # a nan-TW phrase step: what the learned model weighs (also recorded without it)
            loop_phones = [w for w, _, _ in lsegs if w not in NON_SPEECH and not w.startswith("++")]
            said_phones = [p for w in said for p in (self.decoder.lookup_word(w) or "").split()]
            model = eng.accept_model
            wanted = eng.record_features or (model is not None and "runner_up" in model.features)
            second = self._runner_up(said[0]) if wanted else None
            features = turn_features(
                llr=llr, cohort=margin, runner_up=None if second is None else (grammar_score - second) / frames,
                speech_frames=frames, total_frames=self.decoder.n_frames(), phones=phones, loop_phones=len(loop_phones),
                voiced=voiced, grammar_score=grammar_score, frames_per_phone=FRAMES_PER_PHONE,
                loop_agree=phone_agreement(said_phones, loop_phones))
            if not wanted:
                del features["runner_up"]  # not measured: not reported as "no second phrase"
        if features is not None and eng.accept_model is not None:
            conf = eng.accept_model.probability(features)
            if conf < eng.accept_model.threshold(channel_of(self.sample_rate)):
                return Decision(heard, "", llr, conf, False, "below threshold", margin, frames, phones, features)
            return Decision(heard, heard, llr, conf, True, "", margin, frames, phones, features)
        if self._number_loop:
            cal, conf = NUMBERS, NUMBERS.confidence(llr)
        else:
            cal = eng.calibration
            conf = cal.confidence(turn_score(llr, margin, frames, phones, eng.cohort_weight, eng.duration_weight))
        if margin is not None and margin < -eng.decoy_margin:
            return Decision(heard, "", llr, conf, False, "closer to a word outside the grammar", margin, frames, phones,
                            features)
        if conf < cal.threshold:
            return Decision(heard, "", llr, conf, False, "below threshold", margin, frames, phones, features)
        return Decision(heard, heard, llr, conf, True, "", margin, frames, phones, features)

    def _runner_up(self, winner: str) -> float | None:
        """The grammar's best score without the winning phrase (``redecode_score``)."""
        k = self._words[winner]
        others = {w: self.decoder.lookup_word(w) or "" for w, i in self._words.items() if i != k}
        if not others or not self._audio:
            return None
        if self._second is None:  # a decoder of its own: the call's decoders stay as they were
            self._second = self.engine.decoder(bestpath=False, cmninit=self._cmninit)
        return sm.redecode_score(self._second, f"{self._grammar}_w{k}", others, np.concatenate(self._audio),
                              self._cmn_start, lambda d: bool(self._segments(d)), self._searches)

    def _cohort_margin(self, phrase_score: float, frames: int) -> float | None:
        """(best phrase - best decoy) per speech frame, clipped to +-COHORT_CAP;
        None when no decoys competed."""
        if not self._cohort_active or self._cohort is None:
            return None
        hyp = self._cohort.hyp()
        if hyp is None or hyp.score <= 0 or not self._segments(self._cohort):
            return COHORT_CAP  # no decoy fits the turn at all
        margin = llr_per_frame(int(phrase_score), self._cohort.get_logmath().log(hyp.score), frames)
        return max(-COHORT_CAP, min(COHORT_CAP, margin))

    def restart_cmn(self) -> None:
        """Forget the cepstral mean learned from earlier turns, as at the start of a
        call (``bench/taiwanese.py --first-turn`` measures every turn this way)."""
        init = self._cmninit or self.engine.model_cmninit()
        for d in (self.decoder, self._loop, self._cohort):
            if d is not None:
                d.set_cmn(init)

    def _segments(self, decoder) -> list[tuple[str, int, int]]:
        """The decoder's path as (word, first frame, last frame), or [] when it
        does not reach the end of the turn."""
        segs = [(sg.word, sg.start_frame, sg.end_frame) for sg in decoder.seg() or ()]
        if not segs or max(e for _, _, e in segs) < decoder.n_frames() - 1 - END_SLACK_FRAMES:
            return []
        return segs

    def reset(self) -> None:
        if self._in_utt:
            self.decoder.end_utt()
            self._loop.end_utt()
            if self._cohort_active and self._cohort is not None:
                self._cohort.end_utt()
            self._in_utt = False
        self._resampler = None
        self._frames = 0
        self._audio = []

    def close(self) -> None:
        self.reset()
