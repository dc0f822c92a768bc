"""What a call record is, and what every call-record store offers.

Two stores implement ``CallRecords``: SQLite (``records_sqlite``, embedded,
one file per worker) and PostgreSQL (``records_pg``, shared by a cluster).
Both store the same redacted rows, so the same tests run against both.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ivr.errors import IvrError
from ivr.redact import redact_obj

# "interrupted": the worker died mid-call (closed at the next start-up, see close_interrupted)
OUTCOMES = ("self_served", "handed_off", "abandoned", "failed", "interrupted")


class RecordStoreError(IvrError):
    """The call record database cannot be opened or written."""


@dataclass
class CallRecord:
    """One call as the session saw it. ``events`` hold dicts with ``kind`` in
    turn | prompt | action | transfer | hold | note and ``t`` (call seconds)."""

    call_id: str
    transport: str = ""
    caller: str = ""
    language: str = ""
    started_wall: float = 0.0
    ended_wall: float | None = None
    duration: float | None = None
    outcome: str | None = None
    end_reason: str | None = None
    caller_audio: str | None = None
    bot_audio: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["kind"] == kind]

    @property
    def turns(self) -> list[dict[str, Any]]:
        return self.of_kind("turn")

    @property
    def prompts(self) -> list[dict[str, Any]]:
        return self.of_kind("prompt")

    @property
    def actions(self) -> list[dict[str, Any]]:
        return self.of_kind("action")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class RecordStore(Protocol):
    """Where a call's record goes as the call runs (``RecordWriter`` is its
    only writer): the record's header at the start, each event as it happens,
    the outcome at the end, and where to put the call's audio when kept."""

    @property
    def keep_audio(self) -> bool: ...

    def begin(self, record: CallRecord) -> str:
        """Start the record; returns the call id it is stored under (set on ``record``)."""
        ...

    def add_event(self, call_id: str, event: dict[str, Any]) -> None: ...

    def finish(self, record: CallRecord) -> None: ...

    def audio_path(self, call_id: str, side: str) -> Path | None:
        """Where one side's WAV goes; ``None`` when audio is not kept."""
        ...


class CallRecords(RecordStore, Protocol):
    """A whole store as a server holds it: writing (``RecordStore``), crash
    recovery, reading, reporting. ``url`` is safe to show (secrets masked);
    ``worker`` is the id written on every call this store begins."""

    url: str
    worker: str
    redact: bool

    def close_interrupted(self) -> list[tuple[str, list[str]]]: ...
    def get(self, call_id: str) -> CallRecord | None: ...
    def call_ids(self) -> list[str]: ...
    def __iter__(self) -> Iterator[CallRecord]: ...
    def counts(self) -> dict[str, int]: ...
    def calls_between(self, since: float, until: float | None = None) -> list[CallSummary]: ...
    def add_handoff_events(self, events: Sequence[Mapping[str, Any]]) -> None: ...
    def handoff_events(self, since: float = 0.0) -> list[dict[str, Any]]: ...
    def erase_calls(self, call_ids: Sequence[str]) -> int: ...
    def erase_handoff_notes(self, ticket_ids: Sequence[str]) -> int: ...
    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class CallSummary:
    """One call's header row, for reports across workers."""

    call_id: str
    worker: str
    started_wall: float
    duration: float | None
    outcome: str | None
    language: str


def remove_audio(paths: Iterable[str | None]) -> None:
    """Delete erased calls' recordings (those already gone are fine)."""
    for p in paths:
        if p:
            Path(p).unlink(missing_ok=True)


def clean(obj: Any, redact: bool) -> Any:
    """What a store keeps of ``obj``: personal data masked (unless the store
    itself is access-controlled), NUL characters dropped (PostgreSQL text
    cannot hold them; SQLite keeps the same so both stores read back alike)."""
    obj = redact_obj(obj) if redact else obj
    return _no_nul(obj)


def _no_nul(obj: Any) -> Any:
    if isinstance(obj, str):
        return obj.replace("\x00", "") if "\x00" in obj else obj
    if isinstance(obj, dict):
        return {k: _no_nul(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_no_nul(v) for v in obj]
    return obj


def event_row(event: Mapping[str, Any], redact: bool) -> tuple[float, str, str]:
    """``(t, kind, data JSON)`` of one event as both stores keep it."""
    data = {k: v for k, v in event.items() if k not in ("kind", "t")}
    return float(event.get("t", 0.0)), str(event["kind"]), json.dumps(clean(data, redact), ensure_ascii=False,
                                                                       default=str)


def check_outcome(record: CallRecord) -> None:
    if record.outcome not in OUTCOMES:
        raise ValueError(f"call record {record.call_id}: outcome {record.outcome!r} not in {OUTCOMES}")


def tickets_of(events: Sequence[tuple[str, str]]) -> list[str]:
    """The handoff tickets among ``(kind, data JSON)`` events (transfers)."""
    out = []
    for kind, data in events:
        if kind == "transfer":
            ticket = json.loads(data).get("ticket")
            if ticket:
                out.append(str(ticket))
    return out


def handoff_event_row(event: Mapping[str, Any]) -> tuple[str, float, str, str, str, str]:
    """``(eid, at, type, queue, agent, body JSON)`` of one handoff event (no personal data
    is in these: ids, queues, times, dispositions; notes are redacted anyway)."""
    body = clean({k: v for k, v in event.items() if k != "eid"}, True)
    return (str(event.get("eid") or ""), float(event["at"]), str(event.get("type", "")), str(event.get("queue") or ""),
            str(event.get("agent") or ""), json.dumps(body, ensure_ascii=False, default=str))
