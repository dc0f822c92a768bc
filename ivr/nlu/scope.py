"""What the intent classifier must not decide: utterances with nothing in them to
decide on, and words it has never seen that only share characters with a request.

- **A bare request** ("我要", "我想問一下", "幫我"): the wrapper of a request with no
  object. 我要 is in 我要投訴, so the classifier used to call it a complaint; it
  is no intent, and the menu asks again.
- **A key word modifying an unknown word** (真人秀, 餘額寶, 人工智慧): a service's
  or the agent's key phrase (data/sounds.yml: 真人, 餘額, 人工…) followed, up to
  the end of its clause (particles aside), only by characters the training data
  never had — and not a sound-alike either (掛石 and 查於額 are sound-alikes of
  known phrases, and stay; so is 業 for 耶, a particle as a recogniser writes it)
  — is the modifier of a word the model does not know;
  Mandarin puts the head of a compound last, so the clause is about that word.
  Such a clause decides nothing: not an intent, not a command rule, not the
  classifier's command fallback. An unknown word with more after it (密碼鎖住了)
  is more likely a verb, and stays a request; so does "找真人，拜託" (the clause
  ends at 真人).
- **A self-correction** ("查餘額，不對，我是要改密碼"): what follows the last
  correction is what the caller wants (``after_correction``).
- **Clauses a transcript did not mark** (``split_clauses``): a recogniser writes
  the same words with commas, with spaces or with nothing between them
  (不是不是app一直跳出來, 我剛剛按錯了 行動銀行當掉了, 直接轉人工拜託). Besides
  punctuation, a clause also ends at a space beside a Chinese character, after a
  correction that opens the utterance, after a sentence-final particle with more
  after it, and before a closing courtesy (拜託, 謝謝).
  Measured on the understanding set's dev half with its punctuation taken out:
  intents 125 -> 130 of 130 (bench/understanding.py, its "transcript_styles")."""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable

# Words of a request's wrapper: a cleaned utterance made only of these asks for nothing yet.
_BARE = re.compile(r"^(?:我們|我|阮|你們|你|您|想要|想|要|欲|請|幫忙|幫|共|問|一下|辦理|辦|處理|可以|能|是|的|一個|"
                   r"事情|事|東西|有|那|這|個)+$")
# Said after any word (餘額捏, 密碼啦); never the start of another word.
PARTICLES = "啦喔耶捏齁欸啊呀吧嘛咧囉哦噢嗎呢哩唷喲"
# A clause that takes back what came before it ("不對", "喔不是", "我是說").
_TAKE_BACK = "不是|不對|不不|錯了|說錯了|講錯了|更正"
_CORRECTION = re.compile(rf"^(?:{_TAKE_BACK}|我是說|我是講)+")


# Explicit clause marks as a recogniser writes them.
_MARKS = re.compile(r"[，,。．.！!？?、…;；:：~～]+")
# A space next to a Chinese character separates clauses (a space inside "my app" does not).
_CJK_SPACE = re.compile(r"(?<=[\u3400-\u9fff])\s+|\s+(?=[\u3400-\u9fff])")
# A correction that opens the utterance, then more words: 不是不是app… is 不是不是，app…
_OPENING_CORRECTION = re.compile(rf"^(?:[喂餵呃嗯欸喔啊]*)(?:{_TAKE_BACK}|算了)+(?=.{{2,}})")
# A sentence-final particle with two or more characters after it ends a clause (了解 is a word).
_FINAL_PARTICLE = re.compile(r"(?<=[了啦喔耶捏齁吼嗎呢])(?!解)(?=[^了啦喔耶捏齁吼嗎呢]{2,})")
# A closing courtesy is a clause of its own (直接轉人工拜託).
_COURTESY = re.compile(r"(?<=.{2})(?=(?:拜託|謝謝|多謝|麻煩你|麻煩了|好嗎|好不好|可以嗎)+[啦喔耶捏齁吼]?$)")


def split_clauses(text: str, corrections: bool = True) -> list[str]:
    """The raw clauses of an utterance, with or without the recogniser's punctuation
    (see the module doc); empty ones dropped, characters untouched otherwise.
    ``corrections=False``: an opening 不是/不對 stays with what follows (a yes/no
    answer reads its own lead words: 不是很確定 is a hedge, not 不是 + a reason)."""
    out: list[str] = []
    for marked in _MARKS.split(text):
        for chunk in _CJK_SPACE.split(marked):
            chunk = chunk.strip()
            if not chunk:
                continue
            m = _OPENING_CORRECTION.match(chunk) if corrections else None
            head = [chunk[:m.end()]] if m else []
            body = chunk[m.end():] if m else chunk
            for piece in _FINAL_PARTICLE.split(body):
                out.extend(p for p in [*head, *_COURTESY.split(piece)] if p)
                head = []
    return out


def is_bare_request(clean: str) -> bool:
    """A cleaned utterance (Normalizer.clean) that is only request words."""
    return bool(clean) and bool(_BARE.fullmatch(clean))


def modifies_unknown(clause: str, key_phrases: Iterable[str], known_char: Callable[[str], bool],
                     sounds_known: Callable[[str, str], bool]) -> str:
    """The key phrase of a cleaned clause that is followed, up to the clause's end
    (particles aside), only by characters the training data never had, the first
    of them not a sound-alike either (see the module doc); "" when there is none."""
    for phrase in key_phrases:
        at = clause.find(phrase)
        while at >= 0:
            end = at + len(phrase)
            rest = clause[end:].rstrip(PARTICLES)
            if rest and all(_unknown(ch, known_char) for ch in rest) and not sounds_known(clause[end - 1], rest[0]):
                return phrase
            at = clause.find(phrase, at + 1)
    return ""


def _unknown(ch: str, known_char: Callable[[str], bool]) -> bool:
    return "\u4e00" <= ch <= "\u9fff" and ch not in PARTICLES and not known_char(ch)


def after_correction(clauses: list[str]) -> list[str]:
    """The cleaned clauses after the last one that starts with a correction,
    with what that clause says after its correction word; all of them when none
    does (or when the correction is the last thing said)."""
    for k in range(len(clauses) - 1, 0, -1):
        m = _CORRECTION.match(clauses[k])
        if m:
            rest = [clauses[k][m.end():]] if m.end() < len(clauses[k]) else []
            tail = [c for c in rest + clauses[k + 1:] if c]
            return tail or clauses
    return clauses
