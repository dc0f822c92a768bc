"""Turning one caller turn into a slot value: DTMF keys are read here, speech
goes to the NLU. Values are JSON-safe (dates as ISO strings)."""
from __future__ import annotations

import datetime as dt
from typing import Any

from ivr.dialog.models import CollectStep

# Taiwan ID letter codes as keyed on a phone: A=10 ... (the checksum table)
ID_LETTER_CODES = dict(zip("ABCDEFGHJKLMNPQRSTUVXYWZIO", range(10, 36), strict=True))
_CODE_LETTERS = {v: k for k, v in ID_LETTER_CODES.items()}


def taiwan_id_valid(value: str) -> bool:
    v = value.upper()
    if len(v) != 10 or v[0] not in ID_LETTER_CODES or not v[1:].isdigit() or v[1] not in "1289":
        return False
    code = ID_LETTER_CODES[v[0]]
    digits = [code // 10, code % 10] + [int(c) for c in v[1:]]
    weights = [1, 9, 8, 7, 6, 5, 4, 3, 2, 1, 1]
    return sum(d * w for d, w in zip(digits, weights, strict=False)) % 10 == 0


def taiwan_id_from_keys(keys: str) -> str | None:
    """11 keys: the letter's two-digit code then the nine digits."""
    if len(keys) != 11 or not keys.isdigit():
        return None
    letter = _CODE_LETTERS.get(int(keys[:2]))
    value = f"{letter}{keys[2:]}" if letter else None
    return value if value and taiwan_id_valid(value) else None


def date_from_keys(keys: str) -> str | None:
    """YYYYMMDD, or a Minguo date YYYMMDD (0790315 = 1990-03-15) as callers often key it."""
    try:
        if len(keys) == 8:
            return dt.date(int(keys[:4]), int(keys[4:6]), int(keys[6:])).isoformat()
        if len(keys) in (6, 7):
            y, m, d = int(keys[:-4]) + 1911, int(keys[-4:-2]), int(keys[-2:])
            return dt.date(y, m, d).isoformat()
    except ValueError:
        return None
    return None


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


def extract_value(step: CollectStep, text: str, dtmf: str, language: str, nlu: Any) -> tuple[Any, float]:
    """(value or None, confidence) for one turn at a collect step."""
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
