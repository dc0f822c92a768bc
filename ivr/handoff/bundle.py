"""The context that travels with a call to the agent, so nobody asks twice."""
from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ivr.handoff.errors import HandoffError
from ivr.redact import mask_taiwan_ids, redact, redact_obj

SPEAKERS = ("caller", "bot", "agent", "system")


@dataclass(frozen=True, slots=True)
class TranscriptTurn:
    """One line of the conversation; ``at`` is seconds since the call started."""

    at: float
    speaker: str
    text: str
    confidence: float | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"at": round(float(self.at), 3), "speaker": self.speaker, "text": self.text}
        if self.confidence is not None:
            d["confidence"] = round(float(self.confidence), 3)
        return d


@dataclass(frozen=True, slots=True)
class ContextBundle:
    call_id: str
    caller_number: str = ""
    language: str = "zh-TW"
    verified: bool = False
    verified_by: str = ""          # how: "taiwan_id+dob", "pin", "ani", ...
    customer_id: str = ""
    customer_name: str = ""
    customer_tier: str = ""        # "vip", "premium", ... drives priority with `verified`
    intent: str = ""
    slots: Mapping[str, Any] = field(default_factory=dict)
    reason: str = ""
    note: str = ""
    transcript: tuple[TranscriptTurn, ...] = ()
    path: tuple[str, ...] = ()
    started_at: float = field(default_factory=time.time)
    # customer value (ivr.history.value): routing floor and the agent's one-line why
    value_score: int = 0
    value_priority: int = 0
    value_label: str = ""          # "VIP: 存款 > 100 萬, 14 年客戶"
    # the last contacts (ivr.history), newest first: when, intent, outcome, queue, agent, wrap_up, notes
    recent_contacts: tuple[Mapping[str, Any], ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.call_id, str) or not self.call_id:
            raise HandoffError("call_id must be a non-empty string", "ContextBundle")
        for t in self.transcript:
            if not isinstance(t, TranscriptTurn):
                raise HandoffError(f"transcript entries must be TranscriptTurn, got {type(t).__name__}",
                                   "ContextBundle.transcript")

    @property
    def high_value(self) -> bool:
        return self.verified and self.customer_tier.lower() in ("vip", "premium", "private", "priority")

    def to_dict(self) -> dict[str, Any]:
        return {
            "call_id": self.call_id,
            "caller_number": self.caller_number,
            "language": self.language,
            "verified": self.verified,
            "verified_by": self.verified_by,
            "customer_id": self.customer_id,
            "customer_name": self.customer_name,
            "customer_tier": self.customer_tier,
            "intent": self.intent,
            "slots": _jsonable(dict(self.slots)),
            "reason": self.reason,
            "note": self.note,
            "transcript": [t.to_dict() for t in self.transcript],
            "path": list(self.path),
            "started_at": self.started_at,
            "value_score": self.value_score,
            "value_priority": self.value_priority,
            "value_label": self.value_label,
            "recent_contacts": [_jsonable(dict(c)) for c in self.recent_contacts],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ContextBundle:
        if not isinstance(d, Mapping):
            raise HandoffError(f"expected an object, got {type(d).__name__}", "ContextBundle")
        known = set(cls.__dataclass_fields__)
        extra = set(d) - known
        if extra:
            raise HandoffError(f"unknown field(s) {sorted(extra)}", "ContextBundle")
        kw = dict(d)
        try:
            kw["transcript"] = tuple(
                TranscriptTurn(float(t["at"]), str(t["speaker"]), str(t["text"]), t.get("confidence"))
                for t in d.get("transcript", ())
            )
        except (KeyError, TypeError, ValueError) as e:
            raise HandoffError(f"bad transcript entry ({e})", "ContextBundle.transcript") from None
        kw["path"] = tuple(str(p) for p in d.get("path", ()))
        kw["slots"] = dict(d.get("slots") or {})
        kw["verified"] = bool(d.get("verified", False))
        kw["recent_contacts"] = tuple(dict(c) for c in d.get("recent_contacts") or () if isinstance(c, Mapping))
        return cls(**kw)

    def redacted(self) -> dict[str, Any]:
        """The bundle as a dict with personal data masked, for logs and exports."""
        d = redact_obj(self.to_dict())
        d["caller_number"] = _mask_all(self.caller_number)
        name = self.customer_name
        d["customer_name"] = (name[:1] + "○" * (len(name) - 1)) if name else ""
        d["customer_id"] = _mask_all(self.customer_id)
        # Slot values are what callers typed or said: IDs, card numbers, amounts.
        d["slots"] = {k: (redact(str(v)) if not isinstance(v, bool) else v) for k, v in self.slots.items()}
        d["recent_contacts"] = redact_obj(d["recent_contacts"])
        return d

    def agent_view(self) -> dict[str, Any]:
        """What the agent desktop shows: everything an agent needs, with Taiwan
        IDs masked as A12****789 in the customer id, slots, note and transcript
        (secrets never reach a bundle at all)."""
        d = self.to_dict()
        d["customer_id"] = mask_taiwan_ids(d["customer_id"])
        d["note"] = mask_taiwan_ids(d["note"])
        d["slots"] = _mask_ids_in(d["slots"])
        for t in d["transcript"]:
            t["text"] = mask_taiwan_ids(t["text"])
        d["recent_contacts"] = _mask_ids_in(d["recent_contacts"])
        return d

    def summary(self) -> str:
        """One line for queue lists: intent, verification, language (no personal data)."""
        v = f"verified ({self.verified_by})" if self.verified else "not verified"
        return f"{self.intent or 'unknown intent'} · {v} · {self.language}"

    @classmethod
    def from_dialog(cls, state: Any, *, call_id: str, caller_number: str = "", reason: str = "",
                    note: str = "", started_at: float | None = None) -> ContextBundle:
        """Build from a dialog state (dict or object exposing language, slots,
        intent, verified, verified_by/verify_method, path, turns)."""
        get = ((lambda k, dflt=None: state.get(k, dflt)) if isinstance(state, Mapping)
               else (lambda k, dflt=None: getattr(state, k, dflt)))
        secret = frozenset(get("secret_slots") or ())
        slots = dict(get("slots") or {})
        # what ivr.history's customer_context left in the slots travels in its own fields
        value = slots.pop("value", None)
        value = value if isinstance(value, Mapping) else {}
        history = slots.pop("history", None)
        recent = history.get("recent") if isinstance(history, Mapping) else None
        slots.pop("repeat_label", None)
        tier = str(get("customer_tier") or slots.pop("customer_tier", None) or value.get("tier") or "")
        turns = []
        for t in get("turns") or ():
            tg = ((lambda k, dflt=None, t=t: t.get(k, dflt)) if isinstance(t, Mapping)
                  else (lambda k, dflt=None, t=t: getattr(t, k, dflt)))
            text = tg("text")
            if text is None:
                continue
            turns.append(TranscriptTurn(float(tg("at", tg("t", 0.0)) or 0.0), str(tg("speaker", "caller")), str(text),
                                        tg("confidence")))
        return cls(
            call_id=call_id,
            caller_number=caller_number,
            language=str(get("language") or "zh-TW"),
            verified=bool(get("verified") or False),
            verified_by=str(get("verified_by") or get("verify_method") or ""),
            customer_id=str(get("customer_id") or slots.get("customer_id") or ""),
            customer_name=str(get("customer_name") or slots.get("customer_name") or ""),
            customer_tier=tier,
            intent=str(get("intent") or ""),
            # secret slots (PINs, codes: their flow step says secret) never travel to an agent
            slots={k: v for k, v in slots.items() if k not in secret},
            reason=reason,
            note=note,
            transcript=tuple(turns),
            path=tuple(str(p) for p in (get("path") or ())),
            started_at=started_at if started_at is not None else time.time(),
            value_score=int(value.get("score") or 0),
            value_priority=int(value.get("priority") or 0),
            value_label=str(value.get("label") or ""),
            recent_contacts=tuple(dict(c) for c in recent or () if isinstance(c, Mapping)),
        )


def _mask_ids_in(v: Any) -> Any:
    if isinstance(v, str):
        return mask_taiwan_ids(v)
    if isinstance(v, dict):
        return {k: _mask_ids_in(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_mask_ids_in(x) for x in v]
    return v


def _mask_all(s: str) -> str:
    if not s:
        return ""
    keep = 2 if len(s) > 6 else 0
    return "*" * (len(s) - keep) + s[len(s) - keep:]


def _jsonable(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if v is None or isinstance(v, (str, int, float, bool)):
        return v
    return str(v)  # dates, Decimals: their ISO/str form
