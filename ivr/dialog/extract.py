"""Turning one caller turn into a slot value: DTMF keys are read here, speech
goes to the NLU. Values are JSON-safe (dates as ISO strings)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from ivr.dialog.models import CollectStep
from ivr.nlu import LETTER_CODES, date_from_digits, id_checksum_ok, id_from_key_code

# Taiwan ID letter codes as keyed on a phone: A=10 ... (one table, the NLU's)
ID_LETTER_CODES = LETTER_CODES
# Steps at which the recognizer's next-best transcripts are read when the best one
# gives no valid value: only where validity is a strong test. Measured (issue 11,
# bench/number_decoding.py, Whisper base beam 4, dev + test, 3 channels): the first
# valid next-best was right 2 times and wrong 0 at Taiwan ID steps (the checksum), but
# right 5 / wrong 7 at digit steps (a digit count), 2 / 3 at dates and 0 / 4 at amounts
# (anything parses): there a re-ask is better than a wrong value.
ALTERNATIVE_KINDS = frozenset({"taiwan_id"})


def taiwan_id_valid(value: str) -> bool:
    return id_checksum_ok(value.upper())


def taiwan_id_from_keys(keys: str) -> str | None:
    """11 keys: the letter's two-digit code then the nine digits."""
    return id_from_key_code(keys)


def date_from_keys(keys: str) -> str | None:
    """YYYYMMDD, or a Minguo date YYYMMDD (0790315 = 1990-03-15) as callers often key it."""
    d = date_from_digits(keys)
    return d.isoformat() if d else None


def _nlu_extract(nlu: Any, kind: str, text: str, language: str, **params: Any) -> Any:
    try:
        return nlu.extract(kind, text, language, **params)
    except Exception:  # an NLU that takes no extra params for this kind
        if not params:
            raise
        return nlu.extract(kind, text, language)


def _json_safe(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10]
    return value


def extract_value(step: CollectStep, text: str, dtmf: str, language: str, nlu: Any,
                  alternatives: Sequence[str] = ()) -> tuple[Any, float]:
    """(value or None, confidence) for one turn at a collect step. At a step of
    ``ALTERNATIVE_KINDS``, when ``text`` gives no valid value, the recognizer's
    next-best transcripts (``alternatives``, best first) are read in order and the
    first valid one wins; none valid is no value (the step asks again)."""
    value, conf = _extract(step, text, dtmf, language, nlu)
    if value is not None or dtmf.rstrip("#") or step.type not in ALTERNATIVE_KINDS:
        return value, conf
    for alt in alternatives:
        value, conf = _extract(step, alt, "", language, nlu)
        if value is not None:
            return value, conf
    return None, 0.0


def _extract(step: CollectStep, text: str, dtmf: str, language: str, nlu: Any) -> tuple[Any, float]:
    keys = dtmf.rstrip("#")
    kind = step.type
    if keys:
        if keys in step.dtmf:
            return step.dtmf[keys], 1.0
        if kind == "yes_no" and keys in ("1", "2"):
            return keys == "1", 1.0
        if kind == "digits":
            lo, hi = step.length_range()
            return (keys, 1.0) if keys.isdigit() and lo <= len(keys) <= hi else (None, 0.0)
        if kind == "amount":
            return (int(keys), 1.0) if keys.isdigit() else (None, 0.0)
        if kind == "date":
            return date_from_keys(keys), 1.0
        if kind == "taiwan_id":
            return taiwan_id_from_keys(keys), 1.0
        return None, 0.0
    if not text.strip():
        return None, 0.0
    if kind == "intent":
        candidates = list(step.intents) or [v for v in step.dtmf.values() if isinstance(v, str)]
        if hasattr(nlu, "understand"):  # the closed-set decision (a 'confirm' is the engine's to ask)
            u = nlu.understand("intent", text, language, candidates=candidates, min_confidence=step.min_confidence)
            return (u.value, float(u.confidence)) if u.outcome == "accept" else (None, float(u.confidence))
        res = nlu.classify(text, language, candidates)
        if res.intent in candidates and res.confidence >= step.min_confidence:
            return res.intent, float(res.confidence)
        return None, float(res.confidence)
    if kind == "digits":
        lo, hi = step.length_range()
        v = _nlu_extract(nlu, "digits", text, language, min_len=lo, max_len=hi)
        v = str(v) if v is not None else None
        return (v, 1.0) if v and v.isdigit() and lo <= len(v) <= hi else (None, 0.0)
    if kind == "taiwan_id":
        v = _nlu_extract(nlu, "taiwan_id", text, language)
        return (str(v).upper(), 1.0) if v and taiwan_id_valid(str(v)) else (None, 0.0)
    if kind == "free_text":
        return text.strip(), 1.0
    v = _nlu_extract(nlu, kind, text, language)
    return (_json_safe(v), 1.0) if v is not None else (None, 0.0)
