"""A call-record store that fails mid-call never reaches the caller: writes
wait in memory and catch up; a record never stored is spooled whole."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from ivr.clock import VirtualClock
from ivr.session import CallRecordStore
from ivr.session.records import CallRecord, RecordWriter
from tests.session.session_fakes import to_frames
from tests.session.test_session import caller_audio, make_session, run_call


class Flaky(CallRecordStore):
    """A real SQLite store whose writes fail while ``down`` (like a full disk)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.down = False

    def _guard(self) -> None:
        if self.down:
            raise sqlite3.OperationalError("database or disk is full")

    def begin(self, record: CallRecord) -> str:
        self._guard()
        return super().begin(record)

    def add_event(self, call_id: str, event: dict) -> None:
        self._guard()
        super().add_event(call_id, event)

    def finish(self, record: CallRecord) -> None:
        self._guard()
        super().finish(record)


def test_writes_wait_and_catch_up_in_order(tmp_path: Path) -> None:
    store = Flaky(tmp_path / "calls.sqlite3")
    store.down = True
    w = RecordWriter(store, CallRecord(call_id="c1"))
    w.event("turn", 1.0, text="a")
    w.event("turn", 2.0, text="b")
    store.down = False
    w.event("turn", 3.0, text="c")
    rec = w.finish("self_served", "completed", 4.0, "zh-TW")
    assert w.spooled is None
    stored = store.get("c1")
    assert stored.outcome == "self_served" and [e["text"] for e in stored.events] == ["a", "b", "c"]
    assert rec.events == stored.events


def test_a_store_down_to_the_end_spools_the_record(tmp_path: Path) -> None:
    store = Flaky(tmp_path / "calls.sqlite3")
    store.down = True
    w = RecordWriter(store, CallRecord(call_id="c/2", caller="0912345678"))
    w.event("turn", 1.0, text="我的電話是0912345678")
    w.finish("handed_off", "transferred", 2.0, "zh-TW")
    assert w.spooled == tmp_path / "spool" / "c_2.json"
    doc = json.loads(w.spooled.read_text(encoding="utf-8"))
    assert doc["outcome"] == "handed_off" and len(doc["events"]) == 1
    assert "0912345678" not in w.spooled.read_text(encoding="utf-8")  # redacted like the store would


async def test_the_call_goes_on_while_records_are_down(tmp_path: Path) -> None:
    clock = VirtualClock()
    store = Flaky(tmp_path / "calls.sqlite3")
    store.down = True
    audio = caller_audio([("silence", 3.0), ("speech", 1.0), ("silence", 2.0)])
    from ivr.frames import DtmfDigit

    items = to_frames(audio) + [DtmfDigit(d, 7.0 + i * 0.3) for i, d in enumerate("6789")]
    s, _ = make_session(clock, items, script=[("我要查餘額", 0.9)], hold_open=True, store=store)
    record = await run_call(clock, s)
    assert record.outcome == "self_served"  # the caller got the balance
    assert (tmp_path / "spool" / "c1.json").is_file()
