"""Plain records the queue store keeps: tickets (one waiting or connected
handoff), agents (profile + live state) and queue settings."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

from ivr.handoff.errors import HandoffError

# Ticket lifecycle. A callback request keeps the ticket `waiting` (its place
# in line is kept; the agent dials back when it is offered).
WAITING, OFFERED, CONNECTED, WRAP_UP, DONE, ABANDONED, CANCELLED = (
    "waiting", "offered", "connected", "wrap_up", "done", "abandoned", "cancelled")
FINAL = (DONE, ABANDONED, CANCELLED)

# Agent statuses shown on the desktop. `offered` = a call is ringing at the desk.
AVAILABLE, AGENT_OFFERED, BUSY, AGENT_WRAP_UP, AWAY = "available", "offered", "busy", "wrap_up", "away"
AGENT_STATUSES = (AVAILABLE, AGENT_OFFERED, BUSY, AGENT_WRAP_UP, AWAY)
SETTABLE_STATUSES = (AVAILABLE, AWAY)   # the others follow from offers/calls

TIERS = {"T1": "general", "T2": "technical", "T3": "complaints / team lead", "TQ": "quality"}
ROLES = ("agent", "supervisor")
DISPOSITIONS = {
    "resolved": "已解決 Resolved",
    "follow_up": "需後續追蹤 Follow-up",
    "escalated": "已升級處理 Escalated",
    "transferred": "已轉接 Transferred",
    "callback_no_answer": "回撥未接 Callback no answer",
    "wrong_queue": "轉錯佇列 Wrong queue",
    "other": "其他 Other",
}
RESOLVED_DISPOSITIONS = ("resolved",)
MAX_PRIORITY = 99


@dataclass(frozen=True, slots=True)
class Ticket:
    id: str
    queue: str
    priority: int
    call_id: str
    status: str = WAITING
    seq: int = 0                      # global arrival order, kept across overflow/transfer
    enqueued_at: float = 0.0          # first entered any queue
    queued_at: float = 0.0            # entered the current queue (overflow timer)
    offered_to: str | None = None
    offered_at: float | None = None
    accepted_at: float | None = None
    agent: str | None = None          # who handled it
    callback_number: str | None = None
    overflowed_from: str | None = None
    transfers: int = 0
    notes: str = ""                   # transfer notes, newest last, one per line
    ended_at: float | None = None
    # Copied from the bundle so queue lists need not read every context.
    intent: str = ""
    language: str = ""
    verified: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Ticket:
        fields = cls.__dataclass_fields__
        return cls(**{k: v for k, v in d.items() if k in fields})

    def with_(self, **changes: Any) -> Ticket:
        return replace(self, **changes)

    @property
    def is_callback(self) -> bool:
        return bool(self.callback_number)


@dataclass(frozen=True, slots=True)
class AgentProfile:
    id: str
    name: str
    tier: str = "T1"
    skills: tuple[str, ...] = ("T1",)     # queues this agent may serve and read contexts of
    role: str = "agent"
    password_hash: str = ""
    languages: tuple[str, ...] = ("zh-TW",)

    def __post_init__(self) -> None:
        if not self.id or not self.id.replace("-", "").replace("_", "").replace(".", "").isalnum():
            raise HandoffError(f"agent id {self.id!r} must be letters, digits, - _ .", "agent")
        if self.tier not in TIERS:
            raise HandoffError(f"unknown tier {self.tier!r} (one of {', '.join(TIERS)})", f"agent {self.id}")
        if self.role not in ROLES:
            raise HandoffError(f"unknown role {self.role!r} (one of {', '.join(ROLES)})", f"agent {self.id}")

    @property
    def is_supervisor(self) -> bool:
        return self.role == "supervisor"

    def can_serve(self, queue: str) -> bool:
        return queue in self.skills

    def can_read(self, queue: str) -> bool:
        return self.is_supervisor or queue in self.skills

    def to_dict(self, with_hash: bool = True) -> dict[str, Any]:
        d = asdict(self)
        d["skills"] = list(self.skills)
        d["languages"] = list(self.languages)
        if not with_hash:
            d.pop("password_hash")
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> AgentProfile:
        fields = cls.__dataclass_fields__
        kw = {k: v for k, v in d.items() if k in fields}
        kw["skills"] = tuple(kw.get("skills") or ())
        kw["languages"] = tuple(kw.get("languages") or ("zh-TW",))
        return cls(**kw)


@dataclass(frozen=True, slots=True)
class AgentState:
    id: str
    status: str = AWAY
    since: float = 0.0               # when the status last changed (idle-since when available)
    ticket: str | None = None        # offered / connected / wrapping-up ticket
    leg_started: float | None = None  # accept time of the current call (handle time)
    leg_queue: str | None = None      # queue the call was answered from (stats after a transfer)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> AgentState:
        fields = cls.__dataclass_fields__
        return cls(**{k: v for k, v in d.items() if k in fields})


@dataclass(frozen=True, slots=True)
class QueueConfig:
    name: str
    tier: str
    description: str = ""
    overflow_after: float | None = None   # seconds waiting here before moving on
    overflow_to: str | None = None
    service_level_seconds: float = 20.0   # "answered within N s"
    default_handle_time: float = 240.0    # used by EWT until real handle times are observed

    def __post_init__(self) -> None:
        if (self.overflow_after is None) != (self.overflow_to is None):
            raise HandoffError("overflow_after and overflow_to go together", f"queue {self.name}")
        if self.overflow_after is not None and self.overflow_after <= 0:
            raise HandoffError("overflow_after must be > 0 seconds", f"queue {self.name}")


def default_queues() -> dict[str, QueueConfig]:
    """One queue per tier. Technical and complaint callers who wait too long
    go to the general pool rather than wait on for a specialist."""
    return {
        "T1": QueueConfig("T1", "T1", "General"),
        "T2": QueueConfig("T2", "T2", "Technical support", overflow_after=240.0, overflow_to="T1"),
        "T3": QueueConfig("T3", "T3", "Complaints / team lead", overflow_after=300.0, overflow_to="T1"),
        "TQ": QueueConfig("TQ", "TQ", "Quality"),
    }


def queue_score(priority: int, seq: int) -> int:
    """Sort key shared by every store: higher priority first, then arrival."""
    return (MAX_PRIORITY - priority) * 10**11 + seq
