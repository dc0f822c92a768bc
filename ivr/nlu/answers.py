"""Yes/no answers as callers in Taiwan give them: a lead word, often a reason
after it ("是，確定要掛失", "不要，先不要", "不是，我是要查餘額"), particles
(啦/喔/耶/捏/齁), fillers (呃/嗯/那個), and hedges ("應該是吧") that must not
be taken for a yes.

``judge`` returns an ``Answer``: the value (True/False, or None when there is
no answer or it is hedged or self-contradicting) and how sure. Clause
boundaries (the recogniser's commas) matter, so this works on text that still
has its punctuation and folds each clause itself.

``sound_alike`` finds a lead word heard only by sound (撲退 for 不對, 去小 for
取消); the NLU makes that a question (``confirm``), never an answer."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .phonetic import PhoneticMatcher
from .scope import split_clauses

# Longest phrases first so 毋是 wins over 是, 不對 over 對, 沒問題 over 沒.
YES_NO: dict[str, tuple[tuple[str, bool], ...]] = {
    "zh-TW": (
        ("沒問題", True), ("沒有錯", True), ("沒錯", True), ("不錯", True),
        ("不是", False), ("不要", False), ("不對", False), ("不用", False), ("不行", False),
        ("不可以", False), ("不需要", False), ("不好", False), ("沒有", False),
        ("取消", False), ("錯了", False), ("否", False),
        ("是的", True), ("是", True), ("對的", True), ("對", True), ("好的", True), ("好", True),
        ("可以", True), ("確定", True), ("正確", True), ("要", True), ("需要", True),
        ("有", True), ("行", True), ("ok", True), ("yes", True), ("no", False),
    ),
    "nan-TW": (
        ("無問題", True), ("毋著", False), ("毋是", False), ("毋免", False), ("毋好", False),
        ("毋要", False), ("毋欲", False), ("無愛", False), ("袂使", False), ("免矣", False),
        ("毋", False), ("免", False), ("無", False),
        ("著", True), ("是", True), ("好", True), ("欲", True), ("愛", True), ("會使", True),
        ("有", True), ("對", True), ("ok", True),
    ),
}

# Words that may surround a yes/no answer without changing it (好的謝謝, 我不要).
# 得 and 這 are what Whisper writes for an unstressed 的 / a hesitation (好得沒問題, 好,這沒問題).
YES_NO_NEUTRAL = ("麻煩你", "謝謝", "多謝", "感謝", "這樣", "按呢", "真的", "就是", "確定", "我", "阮",
                  "你", "了", "的", "得", "這", "矣", "囉", "啦", "喔", "啊", "呀", "嗯", "欸", "請", "嘛", "咧", "耶",
                  "捏", "齁", "吼", "哦", "噢")


# Words that make the answer unsure whatever else is said: the caller has not decided.
HEDGES = ("應該", "可能", "大概", "也許", "或許", "好像", "不確定", "不知道", "不曉得", "不太確定", "不是很確定",
          "沒有很確定", "不清楚", "不是很清楚", "想想",
          "想一下", "考慮", "看情況", "等一下", "等等", "是嗎", "對嗎", "真的嗎", "沒差", "隨便", "無所謂",
          "毋知", "敢是")
# (not 是不是 / 要不要: they are inside 不是不是 / 不要不要)
# Openers said before the answer that carry nothing (longest first).
LEAD_FILLERS = ("不好意思", "請問", "你好", "您好", "那個", "就是", "然後",
                "喂", "餵", "呃", "嗯", "欸", "誒", "唉", "蛤", "啊", "喔", "哦",
                "而")  # 而: how Whisper writes a lone 呃 ("而不用了"); 餵: 喂 folded before 我 (餵我不要)
PARTICLES = "啦喔耶捏齁欸啊呀吧嘛咧囉哦噢"
# Extra lead words beyond the lexicon in entities.YES_NO (colloquial Taiwan Mandarin).
EXTRA_LEADS: tuple[tuple[str, bool], ...] = (
    ("暫時不要", False), ("還不要", False), ("先不要", False), ("不想", False), ("不必", False),
    ("當然要", True), ("當然", True), ("麻煩你", True),
)
# The answer's words that are clear on their own; without a comma after them,
# a weak lead (要, 有) followed by other words is a request, not an answer.
STRONG = {"是", "是的", "對", "對的", "好", "好的", "不要", "不用", "不是", "沒有", "不對", "確定", "沒錯", "可以",
          "沒問題", "不需要", "先不要", "暫時不要", "不想", "取消", "著", "毋是", "毋著", "毋免", "免", "無愛", "ok"}
# Polarity markers in the words after the lead (a reason or a correction).
NEG_MARKERS = ("不要", "不用", "不想", "不需要", "不必", "取消", "算了", "不是", "不對", "找到了", "弄錯", "改天",
               "再想", "再說", "毋", "免", "無愛", "別")
STRONG_POS_MARKERS = ("確定要", "趕快", "幫我", "麻煩你", "快一點", "沒錯", "就是要", "我確定")
# Words that open a new clause when they follow the answer word (好的我知道了, 不要我再想一下)
CLAUSE_OPENERS = frozenset({"我", "阮", "你"})
# Particles that end a clause when they follow the answer word (要啦，對 / 不行喔，卡找到了)
BOUNDARY_PARTICLES = frozenset("啦喔耶捏齁吼欸啊呀嘛咧囉哦噢了矣")


@dataclass(frozen=True)
class Answer:
    value: bool | None
    confidence: float
    reason: str  # "clear" | "with_reason" | "hedged" | "contradicts" | "none"


def _lexicon(language: str) -> list[tuple[str, bool | None]]:
    entries: list[tuple[str, bool | None]] = list(EXTRA_LEADS)
    for lang in [language] + [lang for lang in YES_NO if lang != language]:
        entries.extend(YES_NO[lang])
    entries.extend((w, None) for w in YES_NO_NEUTRAL)
    entries.sort(key=lambda item: -len(item[0]))  # stable: caller's language wins ties
    return entries


def _strip(clause: str) -> str:
    changed = True
    while changed and clause:
        changed = False
        for f in LEAD_FILLERS:
            if clause.startswith(f) and len(clause) > len(f):
                clause, changed = clause[len(f):], True
        while clause and clause[-1] in PARTICLES and len(clause) > 1:
            clause, changed = clause[:-1], True
    return clause


def _parse(clause: str, lexicon: list[tuple[str, bool | None]]) -> tuple[bool | None, int, bool, bool]:
    """Read yes/no words from the start: (value of the first answer word, characters
    read, whether any answer word read is clear on its own (``STRONG``),
    whether a particle after the answer ended the clause). Stops at the first word
    outside the lexicon, or after a particle that follows the answer: a transcript
    often has no commas, and 不好喔我再想一下 is 不好喔，我再想一下."""
    value: bool | None = None
    strong = False
    pos = 0
    while pos < len(clause):
        for phrase, v in lexicon:
            if clause.startswith(phrase, pos):
                if value is not None and phrase in CLAUSE_OPENERS:
                    return value, pos, strong, True  # 不是我要查餘額: 不是，我要查餘額
                if v is not None:
                    if value is None:
                        value = v
                    elif v != value:
                        return None, -1, False, False  # 是不要: both in one breath
                    strong = strong or phrase in STRONG
                pos += len(phrase)
                if value is not None and phrase in BOUNDARY_PARTICLES and pos < len(clause):
                    return value, pos, strong, True
                break
        else:
            break
    return value, pos, strong, False


def _polarity(rest: str) -> tuple[bool, bool]:
    neg = any(m in rest for m in NEG_MARKERS)
    pos = any(m in rest for m in STRONG_POS_MARKERS)
    return neg, pos


# a first clause this short with no answer word is taken for a misheard one and read past
SKIP_CHARS = 4
MAX_SKIPPED = 1


def judge(text: str, language: str, fold: Callable[[str], str]) -> Answer:
    """The caller's yes/no. ``fold`` is the NLU's character folding (Traditional,
    half-width, numerals); it is applied per clause."""
    clauses = [fold(c).replace(" ", "") for c in split_clauses(text, corrections=False)]
    clauses = [c for c in (_strip(c) for c in clauses) if c and c not in LEAD_FILLERS]
    if language == "zh-TW":
        clauses = [c for c in (_ai_as_ei(c) for c in clauses) if c]
    # 嗯嗯 / 呃呃 alone are backchannels, not answers
    clauses = [c for c in clauses if not all(ch in "嗯呃欸喔啊" for ch in c)]
    if not clauses:
        return Answer(None, 0.0, "none")
    lexicon = _lexicon(language)
    answer = _judge_clauses(clauses, lexicon)
    # A short first clause with no answer word in it, then an answer (我試的，對就是這個: 是的
    # misheard, then 對): the answer the caller gave in words is taken, a little less sure.
    skipped = 0
    while answer.reason == "none" and skipped < MAX_SKIPPED and len(clauses) > 1 and len(clauses[0]) <= SKIP_CHARS \
            and not any(h in "".join(clauses) for h in HEDGES):
        clauses, skipped = clauses[1:], skipped + 1
        later = _judge_clauses(clauses, lexicon)
        if later.value is not None:
            return Answer(later.value, round(later.confidence * 0.85, 4), "later_clause")
    return answer


def _ai_as_ei(clause: str) -> str:
    """Whisper writes the particle 欸 as 愛 (暫時不要欸 → 不要愛, 欸，五千塊 → 愛無千塊): in a
    Mandarin answer, 愛 alone or ending the clause is that particle, not Taiwanese 愛
    ("want", which would make 不要愛 contradict itself). 無愛 (Taiwanese no) stays."""
    if clause == "愛":
        return ""
    if len(clause) > 1 and clause.endswith("愛") and clause[-2] != "無":
        return _strip(clause[:-1])
    return clause


def _judge_clauses(clauses: list[str], lexicon: list[tuple[str, bool | None]]) -> Answer:
    head, rest_clauses = clauses[0], clauses[1:]
    value, used, strong, split = _parse(head, lexicon)
    # a hedge before or inside the answer words (應該是吧, 是嗎) leaves it undecided; one after
    # them is read with the reason, as if a comma were there (不要我再想一下)
    if any(h in head and (value is None or used < 0 or head.find(h) < used) for h in HEDGES):
        return Answer(None, 0.0, "hedged")
    if used < 0:
        return Answer(None, 0.0, "contradicts")
    if value is None:
        return Answer(None, 0.0, "none")
    remainder = head[used:]
    if split:  # a particle after the answer ended its clause
        rest_clauses, remainder = [remainder, *rest_clauses], ""
    if remainder and not rest_clauses and not strong:
        neg, pos = _polarity(remainder)
        if not (pos if value else neg):
            return Answer(None, 0.0, "none")  # 我要查餘額: a request, not an answer
    rest = remainder + "".join(rest_clauses)
    if not rest:
        return Answer(value, 0.95, "clear")
    if any(h in rest for h in HEDGES) and not _polarity(rest)[0]:
        return Answer(None, 0.0, "hedged")
    neg, pos = _polarity(rest)
    if value and neg:
        return Answer(None, 0.0, "contradicts")     # 好，不用了 / 是，不要掛失: ask again
    if not value and pos:
        return Answer(None, 0.0, "contradicts")     # 不要，趕快幫我停卡
    if remainder and not (neg or pos) and not rest_clauses and strong:
        # 好停卡 / 是確定要…: one breath, a strong answer word first
        return Answer(value, 0.85, "with_reason")
    return Answer(value, 0.9, "with_reason")


# ------------------------------------------------------------ by sound
# A lead word heard only by sound (撲退 for 不對, 去小 for 取消, 使得 for 是的) is a
# question for the caller, never an answer: two syllables or more, at the start
# of the first clause, the clause no longer than the word and two characters.
SOUND_MATCH = 0.75
SOUND_SLACK = 2


def sound_phrases(language: str = "zh-TW") -> dict[str, tuple[str, ...]]:
    """The lexicon's lead words of two syllables or more, by answer ("yes" / "no")."""
    words = [(w, v) for w, v in (*EXTRA_LEADS, *YES_NO[language]) if len(w) >= 2 and not w.isascii()]
    return {"yes": tuple(w for w, v in words if v), "no": tuple(w for w, v in words if not v)}


def sound_alike(text: str, fold: Callable[[str], str], matcher: PhoneticMatcher) -> tuple[bool | None, str]:
    """(value, the answer word it sounds like) for a short answer whose lead word is
    a sound-alike; (None, "") otherwise, or when the caller hedged."""
    clauses = [c for c in (_strip(fold(c).replace(" ", "")) for c in split_clauses(text, corrections=False)) if c]
    clauses = [c for c in clauses if c not in LEAD_FILLERS and not all(ch in "嗯呃欸喔啊" for ch in c)]
    if not clauses or any(h in "".join(clauses) for h in HEDGES):
        return None, ""
    head = clauses[0]
    label, score, phrase = matcher.best(head, ("yes", "no"), anchored=True)
    if label is None or score < SOUND_MATCH or len(head) > len(phrase) + SOUND_SLACK:
        return None, ""
    return label == "yes", phrase
