"""What caller history holds: one ``Contact`` per call, and the ``HistorySummary``
flows branch on and the agent's screen pop shows.

A contact never holds a caller's number in clear: only a keyed hash (to find
the same caller again) and a masked form (``*******678``) for people to read."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

TAIPEI = ZoneInfo("Asia/Taipei")
DAY = 86400.0
# A call whose intent counts as dealt with: the bot finished it, or an agent
# wrapped it up as resolved (ivr.handoff.models.RESOLVED_DISPOSITIONS).
RESOLVED_OUTCOMES = ("self_served",)
RESOLVED_WRAP_UPS = ("resolved",)
# The queue a repeat caller goes to when the last call did not reach one.
QUEUE_FOR_INTENT = {"complaint": "T3", "technical_support": "T2"}
# Not a reason for calling: language switches and the like.
NOT_INTENTS = frozenset({"lang_zh", "lang_nan", "repeat", "main_menu", "goodbye", "agent"})
# How a repeat-caller prompt names the earlier reason.
INTENT_LABELS = {"check_balance": "查詢餘額", "reset_password": "重設密碼", "report_card_loss": "卡片掛失",
                 "technical_support": "網路銀行問題", "complaint": "客訴", "talk_to_agent": "洽詢專人",
                 "promise_to_pay": "繳款約定", "fraud_alert": "盜刷確認"}


@dataclass(frozen=True)
class Contact:
    """One call, inbound or outbound, as history keeps it."""

    call_id: str
    started: float                      # wall clock, epoch seconds
    direction: str = "inbound"          # inbound | outbound
    customer_id: str = ""               # set once the call identified the customer
    number_key: str = ""                # keyed hash of the caller number ("" when none)
    number_shown: str = ""              # masked number for people: *******678
    intents: tuple[str, ...] = ()       # every intent the call touched, in order
    outcome: str = ""                   # self_served | handed_off | abandoned | failed | interrupted
    queue: str = ""                     # handoff queue, when handed off
    ticket: str = ""
    agent: str = ""
    wrap_up: str = ""                   # the agent's disposition code
    notes: str = ""                     # the agent's wrap-up note (redacted)
    duration: float = 0.0
    campaign: str = ""                  # outbound: the campaign that placed the call
    result: str = ""                    # outbound: promised_to_pay, confirmed, blocked, ...

    @property
    def intent(self) -> str:
        """The call's reason: its last real intent."""
        real = [i for i in self.intents if i not in NOT_INTENTS]
        return real[-1] if real else ""

    @property
    def resolved(self) -> bool:
        return self.outcome in RESOLVED_OUTCOMES or self.wrap_up in RESOLVED_WRAP_UPS

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["intents"] = list(self.intents)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Contact:
        known = cls.__dataclass_fields__
        kw = {k: v for k, v in d.items() if k in known}
        kw["intents"] = tuple(kw.get("intents") or ())
        return cls(**kw)

    def shown(self) -> dict[str, Any]:
        """One line of the agent's screen pop (no hash, masked number)."""
        when = dt.datetime.fromtimestamp(self.started, TAIPEI).strftime("%Y-%m-%d %H:%M")
        return {"when": when, "direction": self.direction, "intent": self.intent, "outcome": self.outcome,
                "queue": self.queue, "agent": self.agent, "wrap_up": self.wrap_up, "notes": self.notes,
                "number": self.number_shown, "campaign": self.campaign, "result": self.result}


@dataclass(frozen=True)
class HistorySummary:
    """What a flow may branch on (``history.calls_7d`` …) and the last contacts."""

    calls_7d: int = 0
    calls_30d: int = 0
    last_intent: str = ""
    last_outcome: str = ""
    open_complaint: bool = False
    complaints_90d: int = 0
    repeat_intent: str = ""             # unresolved reason of a call in the last 7 days
    repeat_queue: str = ""              # where that caller should go straight to
    repeat_label: str = ""              # how a prompt names it: 客訴
    recent: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    def as_slot(self) -> dict[str, Any]:
        d = asdict(self)
        d["recent"] = [dict(r) for r in self.recent]
        return d


def summarize(contacts: Iterable[Contact], now: float, *, recent: int = 5,
              exclude_call: str = "") -> HistorySummary:
    """Fold a customer's contacts (any order) into a summary as of ``now``."""
    cs: Sequence[Contact] = sorted((c for c in contacts if c.call_id != exclude_call and c.started <= now),
                                   key=lambda c: c.started, reverse=True)
    week = [c for c in cs if now - c.started <= 7 * DAY]
    complaints = [c for c in cs if now - c.started <= 90 * DAY and "complaint" in c.intents]
    repeat = next((c for c in week if c.intent and not c.resolved), None)
    repeat_queue = ""
    if repeat is not None:
        repeat_queue = repeat.queue or QUEUE_FOR_INTENT.get(repeat.intent, "T1")
    last = next((c for c in cs if c.intent), None)
    return HistorySummary(
        calls_7d=len(week),
        calls_30d=sum(1 for c in cs if now - c.started <= 30 * DAY),
        last_intent=last.intent if last else "",
        last_outcome=cs[0].outcome if cs else "",
        open_complaint=any(not c.resolved for c in complaints),
        complaints_90d=len(complaints),
        repeat_intent=repeat.intent if repeat else "",
        repeat_queue=repeat_queue,
        repeat_label=INTENT_LABELS.get(repeat.intent, repeat.intent) if repeat else "",
        recent=tuple(c.shown() for c in cs[:recent]),
    )
