"""The ``Nlu`` facade the dialog engine calls inside its pure step function."""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from . import answers, entities
from .classifier import OUT_OF_SCOPE, Featurizer, Model, softmax, train
from .commands import SOUND_PHRASES, find_command, sound_command
from .digit_sounds import lost_multiplier, read_by_ear
from .errors import NluDataError, NluError
from .normalize import Normalizer
from .numbers import spell_digits
from .numbers_nan import taiwanese_numerals
from .phonetic import PhoneticMatcher, PinyinTable
from .scope import PARTICLES, after_correction, is_bare_request, modifies_unknown, split_clauses
from .training_data import LANGUAGES, Example, load_examples

DEFAULT_DATA = Path(__file__).with_name("data") / "nlu.yml"
SOUNDS_DATA = Path(__file__).with_name("data") / "sounds.yml"
OUTCOMES = ("accept", "confirm", "reject")
# A phonetic match this good (a key phrase heard by sound, 掛石 for 掛失) is worth a confirmation.
PHONETIC_CONFIRM = 0.75
# ... and only in a short answer; in a long sentence some syllables match something by chance.
PHONETIC_MAX_CHARS = 10
# A clause of a longer utterance decides it alone only this clearly ("不是，我是要查餘額").
CLAUSE_OVERRIDE = 0.6
COMMANDS = ("agent", "repeat", "main_menu", "lang_zh", "lang_nan", "goodbye")
# The global command "agent" and the menu intent talk_to_agent are one meaning.
AGENT_INTENT = "talk_to_agent"
ALIASES = {"agent": AGENT_INTENT}
SLOT_KINDS = ("yes_no", "digits", "amount", "date", "taiwan_id", "free_text")
NUMBER_KINDS = ("digits", "amount", "date", "taiwan_id")
_NUMBER_PARAMS: dict[str, set[str]] = {"digits": {"min_len", "max_len"}, "amount": set(), "date": {"today"},
                                       "taiwan_id": set()}
# Words around a command that do not change it (我要轉專人 is 轉專人).
_COMMAND_WRAP = re.compile(r"^(?:我想要|我想|我要|我欲|阮欲|請你|請|幫我|共我|給我|可以|麻煩)+|(?:好嗎|嗎|謝謝|多謝)+$")

_DIGIT_RUN = re.compile(r"\d{2,}")
# 十 right before 千/百 with no digit before it: never a number as written (十千), but 四千 heard as 十千
_SHI_FOR_SI = re.compile(r"(?<![0-9零〇一二三四五六七八九兩两十百千萬万])十(?=[千百])")
# a number step's turn ending in 吧: the particle, or 八 misheard (兩千吧)
_TRAILING = " ，,。.！!？?、…~～"
_FINAL_BA = re.compile(f"吧[{_TRAILING}]*$")
_FAREWELL = re.compile(r"再見|掰掰|拜拜|bye|掛電話", re.IGNORECASE)
_DIGIT_WORDS = "零一二三四五六七八九"
_KIND_PHRASES: dict[str, dict[str, tuple[str, ...]]] = {
    "digits": {"zh-TW": tuple(_DIGIT_WORDS) + ("么", "洞", "拐", "兩"),
               "nan-TW": tuple(_DIGIT_WORDS) + ("空", "兩")},
    "amount": {"zh-TW": tuple(_DIGIT_WORDS) + ("兩", "十", "百", "千", "萬", "元", "塊"),
               "nan-TW": tuple(_DIGIT_WORDS) + ("兩", "十", "百", "千", "萬", "箍", "元")},
    "date": {"zh-TW": tuple(_DIGIT_WORDS) + ("十", "年", "月", "日", "號", "民國", "今天", "明天", "後天", "昨天"),
             "nan-TW": tuple(_DIGIT_WORDS) + ("十", "年", "月", "日", "號", "民國",
                                              "今仔日", "明仔載", "後日", "昨昏")},
    "taiwan_id": {lang: tuple("ABCDEFGHIJKLMNOPQRSTUVWXYZ") + tuple(_DIGIT_WORDS) for lang in LANGUAGES},
    "free_text": dict.fromkeys(LANGUAGES, ()),
}


@dataclass(frozen=True)
class Understanding:
    """What a closed-set step heard and what the dialog should do with it:
    ``accept`` the value, ``confirm`` it first ("請問您是要查詢餘額嗎？" — ``heard``
    is the key phrase recognised), or ``reject`` (reprompt; ``value`` is None)."""
    value: str | bool | int | dt.date | None
    confidence: float
    outcome: str      # one of OUTCOMES
    heard: str = ""
    # an intent: the best candidate's probability over the runner-up's (1.0 when
    # there is no runner-up to confuse it with, or for other kinds)
    margin: float = 1.0


@dataclass(frozen=True)
class IntentResult:
    intent: str | None          # None = no-match (below threshold or out of scope)
    confidence: float
    ranking: list[tuple[str, float]] = field(default_factory=list)


class Nlu:
    """Load once (``Nlu.load``); every method after that is pure and deterministic."""

    def __init__(self, examples: Sequence[Example], threshold: float = 0.4,
                 command_threshold: float = 0.7, source: str = "nlu training data") -> None:
        self._examples = tuple(examples)
        self._threshold = threshold
        self._command_threshold = command_threshold
        self._norm = Normalizer()
        self._pinyin = PinyinTable()
        self._feat = Featurizer(self._pinyin)
        samples = []
        for e in self._examples:
            feats = self._feat.features(self._norm.clean(e.text))
            samples.append((feats, e.intent))
            # A sound-only copy: teaches the pinyin features to decide alone,
            # which is what an ASR homophone (掛時 for 掛失) leaves us with.
            samples.append(([f for f in feats if not f.startswith("c")], e.intent))
        self._model: Model = train(samples)
        self._label_index = {label: i for i, label in enumerate(self._model.labels)}
        self._known_chars = frozenset(f[2:] for f in self._model.vocab if f.startswith("c:"))
        # 業 for 耶, 愛 for 欸: a recogniser writes a particle as any character that sounds like it
        self._particle_sounds = frozenset(self._pinyin.readings(c)[0] for c in PARTICLES)
        self.intents: tuple[str, ...] = tuple(label for label in self._model.labels if label != OUT_OF_SCOPE)
        missing = [c for c in COMMANDS if ALIASES.get(c, c) not in self._label_index]
        if missing:
            raise NluError(f"no examples for command {missing[0]!r} (intent "
                           f"{ALIASES.get(missing[0], missing[0])!r})", source)
        to_command = {ALIASES.get(c, c): c for c in COMMANDS}
        self._command_phrases = {self._norm.clean(e.text): to_command[e.intent]
                                 for e in self._examples if e.intent in to_command}
        self._labels, sounds = _load_sounds(SOUNDS_DATA)
        self._phonetic = PhoneticMatcher(self._pinyin, sounds)
        self._key_phrases = tuple(sorted({p for ps in sounds.values() for p in ps}, key=lambda p: (-len(p), p)))
        self._yes_no_sounds = {self._pinyin.first(p): (v, p) for lang in reversed(answers.YES_NO)
                               for p, v in answers.YES_NO[lang] if not p.isascii()}
        self._command_sounds = PhoneticMatcher(self._pinyin, SOUND_PHRASES)
        self._answer_sounds = PhoneticMatcher(self._pinyin, answers.sound_phrases())

    @classmethod
    def load(cls, path: str | Path | None = None, **options: Any) -> Nlu:
        path = Path(path) if path is not None else DEFAULT_DATA
        return cls(load_examples(path), source=str(path), **options)

    # -- text -------------------------------------------------------------
    def normalize(self, text: str) -> str:
        """Traditional (Taiwan), half-width, numerals as ASCII digits,
        punctuation and fillers (嗯, 呃, 那個, 請問) removed."""
        return self._norm.clean(text)

    # -- intents ----------------------------------------------------------
    def classify(self, text: str, language: str = "zh-TW",
                 candidates: Sequence[str] | None = None) -> IntentResult:
        """Best intent among ``candidates`` (default: every intent). Both
        languages' examples are used whatever ``language`` says: callers mix."""
        self._check_language(language)
        allowed = self._allowed(candidates)
        every = [c for c in (self._norm.clean(part) for part in split_clauses(text)) if c]
        kept = [c for c in every if not self._off_topic(c)]  # 真人秀: about something else (scope.py)
        clauses = after_correction(kept)  # "查餘額，不對，我是要改密碼": what follows the correction
        whole = self._norm.clean(text) if clauses == every else "".join(clauses)
        best = self._classify_clean(whole, allowed)
        if len(clauses) > 1:
            # "不是，我是要查餘額" / "我剛剛按錯了，我要找真人": the clause that carries the request
            # A clause overrides the whole only when it is clearly a request on its own: a
            # long ramble has some clause that looks a little like something.
            for clause in clauses:
                r = self._classify_clean(clause, allowed)
                if r.intent is not None and r.confidence >= max(CLAUSE_OVERRIDE, best.confidence):
                    best = r
        return best

    def _classify_clean(self, clean: str, allowed: list[str]) -> IntentResult:
        if not clean or is_bare_request(clean):  # nothing to decide on (scope.py)
            return IntentResult(None, 0.0, [(name, 0.0) for name in allowed])
        z = self._model.logits(self._feat.features(clean))
        cols = [self._label_index[ALIASES.get(name, name)] for name in allowed]
        if OUT_OF_SCOPE in self._label_index:
            cols.append(self._label_index[OUT_OF_SCOPE])
        probs = softmax(z[cols])
        ranking = sorted(((name, round(float(p), 4)) for name, p in zip(allowed, probs[: len(allowed)], strict=True)),
                         key=lambda item: (-item[1], item[0]))
        top_p = float(probs.max())
        top = int(np.argmax(probs))
        if top >= len(allowed) or top_p < self._threshold:
            return IntentResult(None, round(float(probs[: len(allowed)].max()), 4), ranking)
        return IntentResult(allowed[top], round(top_p, 4), ranking)

    def commands(self, text: str, language: str = "zh-TW") -> str | None:
        """A global command only when the utterance is clearly that command:
        never for digit strings, yes/no answers or sentences about something else."""
        self._check_language(language)
        found = self._command(text, language)
        if found == "goodbye" and not _FAREWELL.search(text) and self._norm.clean(text) not in self._command_phrases \
                and answers.judge(text, language, self._norm.fold).value is not None:
            # 確定，就這樣 / 沒有耶，卡找到了 answer the question (at a card block, a goodbye
            # would end the call unblocked); 沒有了，再見 and the exact 沒有了 stay goodbye
            return None
        return found

    def _command(self, text: str, language: str) -> str | None:
        clean = self._in_scope(text)
        if not clean or _DIGIT_RUN.search(clean) or sum(c.isdigit() for c in clean) * 2 >= len(clean):
            return None  # an account number or a DTMF-like answer, not a command
        ruled = find_command(clean)
        if ruled is not None:
            return ruled
        core = _COMMAND_WRAP.sub("", clean) or clean
        if core in self._command_phrases:
            return self._command_phrases[core]
        if clean in self._command_phrases:
            return self._command_phrases[clean]
        heard = self._command_by_sound(text, core)  # 青醬中文 for 請講中文
        if heard is not None:
            return heard
        if len(clean) > 10 or answers.judge(text, language, self._norm.fold).reason == "clear":
            return None  # 沒有 / 不用了 answer a question; only the exact 沒有了 is goodbye
        result = self._classify_clean(clean, list(COMMANDS))
        if result.intent is None or result.confidence < self._command_threshold:
            return None
        return result.intent

    def _in_scope(self, text: str) -> str:
        """The cleaned utterance without its clauses about something else (真人秀)."""
        clean = self._norm.clean(text)
        every = [c for c in (self._norm.clean(part) for part in split_clauses(text)) if c]
        kept = [c for c in every if not self._off_topic(c)]
        return clean if len(kept) == len(every) else "".join(kept)

    def _off_topic(self, clause: str) -> bool:
        return bool(modifies_unknown(clause, self._key_phrases, self._char_known, self._sounds_known))

    def _char_known(self, ch: str) -> bool:
        return ch in self._known_chars or any(r in self._particle_sounds for r in self._pinyin.readings(ch))

    def _sounds_known(self, before: str, ch: str) -> bool:
        """``ch`` after ``before`` sounds like something in the training data (掛石: gua_shi of 掛失)."""
        vocab = self._model.vocab
        return any(f"p2:{a}_{b}" in vocab for a in self._pinyin.readings(before) for b in self._pinyin.readings(ch))

    def _command_by_sound(self, text: str, core: str) -> str | None:
        """A short command heard by sound: the whole utterance, else one clause of it
        ("迷將太快了，再將一次拜託"); the last clause that is one wins."""
        found, _, _ = sound_command(core, self._command_sounds)
        if found is not None:
            return found
        clauses = [c for c in (self._norm.clean(part) for part in split_clauses(text)) if c]
        for clause in reversed(clauses if len(clauses) > 1 else []):
            found, _, _ = sound_command(_COMMAND_WRAP.sub("", clause) or clause, self._command_sounds)
            if found is not None:
                return found
        return None

    # -- slots ------------------------------------------------------------
    def extract(self, kind: str, text: str, language: str = "zh-TW", **params: Any) -> Any:
        """yes_no -> bool; digits -> str (min_len, max_len); amount -> int NT$;
        date -> datetime.date (today= for 明天 etc.); taiwan_id -> 'A123456789';
        free_text -> normalized str. None when the utterance holds no such value."""
        self._check_language(language)
        if kind in NUMBER_KINDS:
            self._no_params(kind, params, _NUMBER_PARAMS[kind])
            if language == "nan-TW":
                text = taiwanese_numerals(text)  # Tâi-lô and Taiwanese Han number words (numbers_nan.py)
                return self._read_number(kind, text, params)
            return self._number_by_ear(kind, text, params)
        if kind == "yes_no":
            self._no_params(kind, params)
            return answers.judge(text, language, self._norm.fold).value
        if kind == "free_text":
            self._no_params(kind, params)
            return self._norm.clean(text) or None
        raise NluError(f"unknown slot kind {kind!r} (one of {', '.join(SLOT_KINDS)})", "nlu.extract")

    def _number_by_ear(self, kind: str, text: str, params: dict[str, Any]) -> Any:
        """The value as written; when that gives none, the value with digits Whisper
        wrote as sound-alike characters read back (鈴 -> 零, 起 -> 七: digit_sounds.py).
        A date or amount that reads validly as written and differently by ear takes
        the reading by ear only when each sound-alike touches the number (民國起11年 is
        民國七十一年: the plain reading skipped a syllable of the number), else none; a
        value that reads by ear as none keeps the plain reading (而 for the filler 呃),
        except an amount whose 萬 lost its multiplier (臺灣兩千五百). None: the step asks again.
        A digit string or ID valid as written is the caller's: its length or checksum holds."""
        plain = self._read_number(kind, text, params)
        if plain is None and kind == "amount" and _SHI_FOR_SI.search(text):
            # 十千六百 is no number: 四千 said with the Taiwan blur of s and sh (四 si, 十 shi)
            return self._read_number(kind, _SHI_FOR_SI.sub("四", text), params)
        heard, glued = read_by_ear(text, allow_yao=kind != "amount")
        if heard == text:
            return plain
        by_ear = self._read_number(kind, heard, params)
        if kind in ("amount", "date") and by_ear != plain and _FINAL_BA.search(text):
            # 兩千吧 is 兩千 with a particle (about 2000), or 兩千八 misheard: neither is taken
            return None
        if plain is None or by_ear == plain:
            return by_ear
        if kind in ("digits", "taiwan_id"):
            return plain
        if by_ear is None:  # the sound-alike was a word (而 for the filler 呃), unless it was a 萬
            return None if lost_multiplier(text, heard) else plain
        return by_ear if glued else None

    def _read_number(self, kind: str, text: str, params: dict[str, Any]) -> Any:
        if kind == "digits":
            spelled = self._norm.fold(spell_digits(text))
            return entities.digits(spelled, int(params.get("min_len", 1)), int(params.get("max_len", 64)))
        if kind == "amount":
            return entities.amount(self._norm.fold(text))
        if kind == "date":
            today = params.get("today")
            if today is not None and not isinstance(today, dt.date):
                today = dt.date.fromisoformat(str(today))
            return entities.date(self._norm.clean(text), today)
        return entities.taiwan_id(self._norm.fold(spell_digits(text)))

    # -- closed-set decisions ---------------------------------------------
    def understand(self, kind: str, text: str, language: str = "zh-TW",
                   candidates: Sequence[str] | None = None, min_confidence: float = 0.45,
                   **params: Any) -> Understanding:
        """Decide a closed-set step with an explicit outcome. ``intent``: the
        classifier's answer at or above ``min_confidence`` is accepted; a weaker
        one, or an answer heard only by sound (掛石 for 掛失), is to be confirmed;
        nothing else is guessed. ``yes_no``: a clear answer (with its reason,
        particles, fillers) is accepted; a hedge or a contradiction is rejected;
        a word that only sounds like an answer (使得 for 是的) is to be confirmed.
        Other kinds: the extracted value is accepted, or rejected when absent."""
        self._check_language(language)
        if kind == "intent":
            return self._understand_intent(text, language, candidates, min_confidence)
        if kind == "yes_no":
            self._no_params(kind, params)
            answer = answers.judge(text, language, self._norm.fold)
            if answer.value is not None:
                return Understanding(answer.value, answer.confidence, "accept")
            if answer.reason == "none":
                heard = self._norm.clean(text)
                sounds = self._pinyin.first(heard) if heard else ""
                if sounds in self._yes_no_sounds:  # 使得 for 是的; heard: the answer word it sounds like
                    said, word = self._yes_no_sounds[sounds]
                    return Understanding(said, 0.5, "confirm", word)
                alike, phrase = answers.sound_alike(text, self._norm.fold, self._answer_sounds)
                if alike is not None:  # 撲退 for 不對, 去小 for 取消: asked, never taken
                    return Understanding(alike, 0.5, "confirm", phrase)
            return Understanding(None, 0.0, "reject")
        value = self.extract(kind, text, language, **params)
        return Understanding(value, 1.0, "accept") if value is not None else Understanding(None, 0.0, "reject")

    def _understand_intent(self, text: str, language: str, candidates: Sequence[str] | None,
                           min_confidence: float) -> Understanding:
        allowed = self._allowed(candidates)
        clean = self._in_scope(text)
        if not clean or is_bare_request(clean):  # 我要 / 我想問一下 / 真人秀: nothing to match, by words or sound
            return Understanding(None, 0.0, "reject", margin=0.0)
        if find_command(clean) == "agent":  # 我要人工服務: the agent command's shapes hold at a menu too
            offered = [a for a in allowed if ALIASES.get(a, a) == AGENT_INTENT]
            if offered:
                return Understanding(offered[0], 0.9, "accept")
        result = self.classify(text, language, allowed)
        scores = sorted((p for _, p in result.ranking), reverse=True)
        margin = round(scores[0] - scores[1], 4) if len(scores) > 1 else 1.0
        if result.intent is not None and result.confidence >= min_confidence:
            return Understanding(result.intent, result.confidence, "accept", margin=margin)
        label, score, phrase = self._phonetic.best(clean, [ALIASES.get(a, a) for a in allowed])
        if label is not None and score >= (PHONETIC_CONFIRM if len(clean) <= PHONETIC_MAX_CHARS else 1.0):
            name = next(a for a in allowed if ALIASES.get(a, a) == label)
            prior = dict(result.ranking).get(name, 0.0)
            # below the accept line by construction: a sound-alike is confirmed, never accepted
            confidence = min(max(prior, 0.9 * min_confidence * score), 0.99 * min_confidence)
            return Understanding(name, round(confidence, 4), "confirm", phrase, margin)
        weak = result.confidence >= min_confidence * 0.6 and len(clean) <= 2 * PHONETIC_MAX_CHARS
        if result.intent is not None and weak:
            return Understanding(result.intent, result.confidence, "confirm", margin=margin)
        return Understanding(None, result.confidence, "reject", margin=margin)

    def describe(self, intent: str, language: str = "zh-TW") -> str | None:
        """How the dialog names an intent when it confirms it (查詢餘額), or None."""
        self._check_language(language)
        return self._labels.get(ALIASES.get(intent, intent), {}).get(language)

    # -- recogniser hints -------------------------------------------------
    def expected_phrases(self, what: str | Iterable[str], language: str = "zh-TW") -> tuple[str, ...]:
        """Phrases for the recogniser's grammar or hints, in Han characters:
        a slot kind's words, or the examples of the given intents in
        ``language`` (the other language's examples when it has none)."""
        self._check_language(language)
        if isinstance(what, str):
            if what in _KIND_PHRASES:
                return _KIND_PHRASES[what][language]
            if what == "yes_no":
                return tuple(p for p, _ in answers.YES_NO[language] if not p.isascii())
            what = [what]
        names = [ALIASES.get(n, n) for n in what]
        unknown = [n for n in names if n not in self._label_index]
        if unknown:
            raise NluError(f"unknown intent or slot kind {unknown[0]!r}", "nlu.expected_phrases")
        out: list[str] = []
        for name in names:
            mine = [e.text for e in self._examples if e.intent == name and e.language == language]
            pool = mine or [e.text for e in self._examples if e.intent == name]
            out.extend(t for t in pool if not any(c.isascii() and c.isalnum() for c in t) and t not in out)
        return tuple(out)

    # -- helpers ----------------------------------------------------------
    def _allowed(self, candidates: Sequence[str] | None) -> list[str]:
        if candidates is None:
            return list(self.intents)
        allowed: list[str] = []
        seen: set[str] = set()
        for name in candidates:
            label = ALIASES.get(name, name)
            if label not in self._label_index or label == OUT_OF_SCOPE:
                raise NluError(f"unknown intent {name!r} in candidates", "nlu.classify")
            if label not in seen:  # agent and talk_to_agent share one score
                seen.add(label)
                allowed.append(name)
        if not allowed:
            raise NluError("empty candidates list", "nlu.classify")
        return allowed

    @staticmethod
    def _check_language(language: str) -> None:
        if language not in LANGUAGES:
            raise NluError(f"unknown language {language!r} (one of {', '.join(LANGUAGES)})", "nlu")

    @staticmethod
    def _no_params(kind: str, params: dict[str, Any], allowed: Collection[str] = frozenset()) -> None:
        extra = set(params) - set(allowed)
        if extra:
            raise NluError(f"unexpected parameter {sorted(extra)[0]!r} for {kind}", "nlu.extract")


def _load_sounds(path: Path) -> tuple[dict[str, dict[str, str]], dict[str, tuple[str, ...]]]:
    """Intent labels and key phrases for phonetic matching (data/sounds.yml)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise NluDataError(f"cannot read phonetic key phrases: {err}".splitlines()[0], str(path)) from None
    if not isinstance(data, dict):
        raise NluDataError("must be a mapping of intent -> {label, phrases}", str(path))
    labels: dict[str, dict[str, str]] = {}
    phrases: dict[str, tuple[str, ...]] = {}
    for intent, entry in data.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("phrases"), list):
            raise NluDataError(f"intent {intent!r} needs a 'phrases' list", str(path))
        labels[str(intent)] = {str(k): str(v) for k, v in (entry.get("label") or {}).items()}
        phrases[str(intent)] = tuple(str(p) for p in entry["phrases"])
    return labels, phrases
