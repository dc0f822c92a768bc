"""A keyword NLU with the ivr.nlu contract, for unit tests of the engine only
(the scripted conversations also run against the real ivr.nlu)."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

INTENT_WORDS = {
    "check_balance": ["餘額", "賰偌濟"], "reset_password": ["密碼"], "report_card_loss": ["掛失"],
    "technical_support": ["網路銀行", "app"], "complaint": ["客訴", "投訴"], "talk_to_agent": ["真人"],
    "lang_zh": ["國語", "華語"], "lang_nan": ["台語", "臺語"],
}
COMMANDS = {"agent": ["轉接專人", "專人"], "repeat": ["重聽"], "main_menu": ["主選單"],
            "lang_zh": ["國語", "華語"], "lang_nan": ["台語", "臺語"], "goodbye": ["再見"]}
DIGITS = {c: str(i) for i, c in enumerate("零一二三四五六七八九")}


@dataclass
class IntentResult:
    intent: str | None
    confidence: float
    ranking: list = field(default_factory=list)


class FakeNlu:
    def classify(self, text, language, candidates=None):
        for intent, words in INTENT_WORDS.items():
            if (candidates is None or intent in candidates) and any(w in text.lower() for w in words):
                return IntentResult(intent, 0.9, [(intent, 0.9)])
        return IntentResult(None, 0.1, [])

    def commands(self, text, language):
        for cmd, words in COMMANDS.items():
            if any(w in text for w in words):
                return cmd
        return None

    def extract(self, kind, text, language, **params):
        t = "".join(DIGITS.get(c, c) for c in text)
        if kind == "yes_no":
            if any(w in text for w in ("不", "毋", "無")):
                return False
            return True if any(w in text for w in ("好", "對", "是", "著")) else None
        if kind == "digits":
            d = "".join(re.findall(r"\d", t))
            return d or None
        if kind == "amount":
            d = "".join(re.findall(r"\d", t))
            return int(d) if d else None
        if kind == "date":
            m = re.search(r"(\d{4})-(\d{2})-(\d{2})", t)
            return dt.date(int(m[1]), int(m[2]), int(m[3])) if m else None
        if kind == "taiwan_id":
            m = re.search(r"[A-Za-z]\d{9}", t.replace(" ", ""))
            return m.group(0).upper() if m else None
        return text

    def expected_phrases(self, what, language):
        if isinstance(what, str):
            return ()
        return tuple(w for i in what for w in INTENT_WORDS.get(i, ()))
