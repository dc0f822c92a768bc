"""The state of one call in the dialog: plain data, JSON round-trippable, so a
call survives a worker restart and the handoff context can be read off it."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass
class DialogState:
    call_id: str = ""
    caller: str = ""
    called: str = ""
    flow_version: str = ""
    language: str = "zh-TW"
    slots: dict[str, Any] = field(default_factory=dict)
    secret_slots: list[str] = field(default_factory=list)  # PINs, codes: never shown to an agent
    intent: str | None = None
    verified: bool = False
    verify_method: str | None = None
    # "flow/step" of every step entered, in order: the agent sees how the caller got here
    path: list[str] = field(default_factory=list)
    # what the caller said or keyed: {"t", "step", "text", "dtmf", "no_input", "intent"}
    turns: list[dict[str, Any]] = field(default_factory=list)
    handoff_reason: str | None = None
    flow: str | None = None
    step: str | None = None
    # return points of `call` steps: [{"flow", "step"}], innermost last
    stack: list[dict[str, str]] = field(default_factory=list)
    waiting: str | None = None  # input | confirm | backend | validate
    no_input: int = 0
    no_match: int = 0
    unsure: int = 0  # of those misses, answers heard but not sure enough (ivr/dialog/closed_set.py)
    pending: Any = None  # a heard value awaiting validation or confirmation
    # the language policy (ivr/dialog/policy.py): the step now asks for keys; which
    # page of a long menu was offered last; whether the last answer was spoken
    keys_only: bool = False
    menu_page: int = 0
    by_voice: bool = False
    last_error: str = ""
    last_say: list[dict[str, Any]] = field(default_factory=list)
    ended: bool = False
    end_reason: str = ""
    transitions: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DialogState:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    def to_json(self) -> str:
        # default=str: a backend that returns a Decimal or a datetime must not break persistence
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True, default=str)

    @classmethod
    def from_json(cls, text: str) -> DialogState:
        return cls.from_dict(json.loads(text))

    def copy(self) -> DialogState:
        return DialogState.from_dict(json.loads(json.dumps(self.to_dict(), default=str)))

    def shown(self) -> dict[str, Any]:
        """The state for a person to read (``ivr chat``'s /state): secret slots
        and a secret value awaiting validation or re-entry are masked."""
        d = self.to_dict()
        d["slots"] = {k: ("****" if k in self.secret_slots and v is not None else v) for k, v in self.slots.items()}
        last = self.turns[-1] if self.turns else {}
        hidden = any(str(last.get(k, "")).strip("*") == "" and last.get(k) for k in ("text", "dtmf"))
        if self.pending is not None and (self.waiting == "reenter" or hidden):
            d["pending"] = "****"
        return d

    def context(self) -> dict[str, Any]:
        """What an agent needs: who, verified how, what they wanted, what they said."""
        return {
            "call_id": self.call_id, "caller": self.caller, "language": self.language,
            "verified": self.verified, "verify_method": self.verify_method, "intent": self.intent,
            "slots": {k: v for k, v in self.slots.items() if k not in self.secret_slots},
            "path": list(self.path), "turns": list(self.turns), "reason": self.handoff_reason,
        }
