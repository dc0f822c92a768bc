"""Call records in one SQLite file (WAL): the embedded default.

A ``calls`` row per call and an ``events`` row per turn, prompt, action and
transfer. Every event is committed when it is added, so a crashed worker
loses nothing already said; a call whose row never got an end time is
visibly unfinished (``outcome`` NULL). Optionally the audio of both sides is
kept as WAV files next to the database."""
from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from ivr.session.owner import is_dead
from ivr.session.owner import token as owner_token
from ivr.session.records_base import (
    CallRecord,
    CallSummary,
    RecordStoreError,
    check_outcome,
    clean,
    event_row,
    handoff_event_row,
    remove_audio,
    tickets_of,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (
    call_id TEXT PRIMARY KEY,
    transport TEXT NOT NULL DEFAULT '',
    caller TEXT NOT NULL DEFAULT '',
    language TEXT NOT NULL DEFAULT '',
    started_wall REAL NOT NULL,
    ended_wall REAL,
    duration REAL,
    outcome TEXT,
    end_reason TEXT,
    caller_audio TEXT,
    bot_audio TEXT,
    owner TEXT,
    worker TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS events (
    call_id TEXT NOT NULL REFERENCES calls(call_id),
    seq INTEGER NOT NULL,
    t REAL NOT NULL,
    kind TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (call_id, seq)
);
CREATE TABLE IF NOT EXISTS handoff_events (
    eid TEXT PRIMARY KEY,
    at REAL NOT NULL,
    type TEXT NOT NULL,
    queue TEXT NOT NULL DEFAULT '',
    agent TEXT NOT NULL DEFAULT '',
    worker TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS handoff_events_at ON handoff_events(at);
"""

_HEADER = ("call_id, transport, caller, language, started_wall, ended_wall, duration, outcome, end_reason, "
           "caller_audio, bot_audio")


class CallRecordStore:
    """SQLite call records (``CallRecords``). Safe to share between the calls of one process
    (one connection, serialised by a lock; each write is one short commit).

    ``redact=True`` (default) masks personal data (IDs, card/account/phone
    numbers) in everything stored, like the logs; set it False only for a
    store that is itself access-controlled.
    """

    def __init__(self, path: str | Path = ":memory:", *, redact: bool = True, keep_audio: bool = False,
                 worker: str = "") -> None:
        self.path = str(path)
        self.url = f"sqlite:///{self.path}"
        self.redact = redact
        self.worker = worker
        self.keep_audio = keep_audio and self.path != ":memory:"
        self._lock = threading.Lock()
        self._seq: dict[str, int] = {}
        self._owner = owner_token()
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            columns = {r[1] for r in self._db.execute("PRAGMA table_info(calls)")}
            if "owner" not in columns:  # a database from before owners
                self._db.execute("ALTER TABLE calls ADD COLUMN owner TEXT")
            if "worker" not in columns:  # a database from before worker ids
                self._db.execute("ALTER TABLE calls ADD COLUMN worker TEXT NOT NULL DEFAULT ''")
        except sqlite3.Error as e:
            raise RecordStoreError(f"cannot open call records: {e}", self.path) from e

    # -- writing ----------------------------------------------------------
    def _exec(self, sql: str, args: tuple) -> None:
        try:
            with self._lock:
                self._db.execute(sql, args)
        except sqlite3.Error as e:
            raise RecordStoreError(f"cannot write call record: {e}", self.path) from e

    def begin(self, record: CallRecord) -> str:
        """Add the call's row. A call id already recorded (Asterisk dialplans
        with a fixed UUID, a Twilio reconnect reusing its callSid) gets the
        next free ``<id>-a2``, ``-a3``…: the earlier record is never touched.
        Sets and returns ``record.call_id``."""
        base, n = record.call_id, 1
        while True:
            try:
                with self._lock:
                    self._db.execute(
                        "INSERT INTO calls (call_id, transport, caller, language, started_wall, owner, worker) "
                        "VALUES (?,?,?,?,?,?,?)",
                        (record.call_id, record.transport, clean(record.caller, self.redact), record.language,
                         record.started_wall, self._owner, self.worker))
                break
            except sqlite3.IntegrityError:
                n += 1
                record.call_id = f"{base}-a{n}"
            except sqlite3.Error as e:
                raise RecordStoreError(f"cannot write call record: {e}", self.path) from e
        self._seq[record.call_id] = 0
        return record.call_id

    def close_interrupted(self) -> list[tuple[str, list[str]]]:
        """Close the records of calls whose worker died mid-call (outcome
        ``interrupted``); returns ``(call_id, handoff tickets it queued)`` for
        each, so the caller of this can withdraw those tickets. Calls of live
        workers (this process included) are left alone."""
        with self._lock:
            rows = self._db.execute("SELECT call_id, owner, started_wall FROM calls WHERE outcome IS NULL").fetchall()
        out: list[tuple[str, list[str]]] = []
        for call_id, owner, started in rows:
            if owner == self._owner or not is_dead(owner):
                continue
            with self._lock:
                evs = self._db.execute("SELECT t, kind, data FROM events WHERE call_id=? ORDER BY seq",
                                       (call_id,)).fetchall()
                last_t = max((t for t, _, _ in evs), default=0.0)
                self._db.execute(
                    "UPDATE calls SET ended_wall=?, duration=?, outcome='interrupted', end_reason='worker_died' "
                    "WHERE call_id=? AND outcome IS NULL", (started + last_t, round(last_t, 3), call_id))
            out.append((call_id, tickets_of([(kind, d) for _, kind, d in evs])))
        return out

    def add_event(self, call_id: str, event: dict[str, Any]) -> None:
        seq = self._seq.get(call_id, 0)
        self._seq[call_id] = seq + 1
        self._exec("INSERT INTO events (call_id, seq, t, kind, data) VALUES (?,?,?,?,?)",
                   (call_id, seq, *event_row(event, self.redact)))

    def finish(self, record: CallRecord) -> None:
        check_outcome(record)
        self._exec(
            "UPDATE calls SET ended_wall=?, duration=?, outcome=?, end_reason=?, language=?, caller_audio=?, "
            "bot_audio=? WHERE call_id=?",
            (record.ended_wall, record.duration, record.outcome, record.end_reason, record.language,
             record.caller_audio, record.bot_audio, record.call_id),
        )
        self._seq.pop(record.call_id, None)

    def audio_path(self, call_id: str, side: str) -> Path | None:
        """Where the WAV of one side of a call goes (``None`` when audio is not kept)."""
        if not self.keep_audio:
            return None
        safe = "".join(c for c in call_id if c.isalnum() or c in "-_") or "call"
        d = Path(self.path).with_suffix("").parent / (Path(self.path).stem + "-audio")
        d.mkdir(parents=True, exist_ok=True)
        return d / f"{safe}-{side}.wav"

    def add_handoff_events(self, events: Sequence[Mapping[str, Any]]) -> None:
        """Queue events (offered, accepted, wrapped…) for reports; an event
        already stored (same ``eid``) is skipped, so a retried batch is safe."""
        rows = [(*handoff_event_row(e), self.worker) for e in events]
        try:
            with self._lock:
                self._db.execute("BEGIN")
                try:
                    self._db.executemany("INSERT OR IGNORE INTO handoff_events (eid, at, type, queue, agent, body, "
                                         "worker) VALUES (?,?,?,?,?,?,?)", rows)
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
        except sqlite3.Error as e:
            raise RecordStoreError(f"cannot write handoff events: {e}", self.path) from e

    def erase_calls(self, call_ids: Sequence[str]) -> int:
        """PDPA erasure of a customer's calls: their events (what was said and
        keyed, transfers, context) and recordings go; each call's row stays for
        the counts with its caller blanked. Returns the calls anonymised."""
        ids = sorted({str(c) for c in call_ids if c})
        if not ids:
            return 0
        marks = ",".join("?" * len(ids))
        try:
            with self._lock:
                audio = self._db.execute(f"SELECT caller_audio, bot_audio FROM calls WHERE call_id IN ({marks})",
                                         ids).fetchall()
                self._db.execute("BEGIN")
                try:
                    self._db.execute(f"DELETE FROM events WHERE call_id IN ({marks})", ids)
                    n = self._db.execute(f"UPDATE calls SET caller='', caller_audio=NULL, bot_audio=NULL "
                                         f"WHERE call_id IN ({marks})", ids).rowcount
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
        except sqlite3.Error as e:
            raise RecordStoreError(f"cannot erase calls: {e}", self.path) from e
        remove_audio(p for row in audio for p in row)
        return int(n)

    def erase_handoff_notes(self, ticket_ids: Sequence[str]) -> int:
        """PDPA: the free text (wrap-up notes) of these tickets' queue events goes;
        the events stay for the reports. Returns the events changed."""
        ids = sorted({str(t) for t in ticket_ids if t})
        if not ids:
            return 0
        marks = ",".join("?" * len(ids))
        try:
            with self._lock:
                return int(self._db.execute(
                    f"UPDATE handoff_events SET body=json_set(body, '$.note', '') WHERE json_extract(body, '$.ticket') "
                    f"IN ({marks}) AND COALESCE(json_extract(body, '$.note'), '') != ''", ids).rowcount)
        except sqlite3.Error as e:
            raise RecordStoreError(f"cannot erase handoff notes: {e}", self.path) from e

    # -- reading ----------------------------------------------------------
    def get(self, call_id: str) -> CallRecord | None:
        with self._lock:
            row = self._db.execute(f"SELECT {_HEADER} FROM calls WHERE call_id=?", (call_id,)).fetchone()
            if row is None:
                return None
            evs = self._db.execute("SELECT t, kind, data FROM events WHERE call_id=? ORDER BY seq",
                                   (call_id,)).fetchall()
        rec = CallRecord(*row)
        rec.events = [{"kind": k, "t": t, **json.loads(d)} for t, k, d in evs]
        return rec

    def call_ids(self) -> list[str]:
        with self._lock:
            return [r[0] for r in self._db.execute("SELECT call_id FROM calls ORDER BY started_wall, rowid")]

    def __iter__(self) -> Iterator[CallRecord]:
        for cid in self.call_ids():
            rec = self.get(cid)
            if rec is not None:
                yield rec

    def counts(self) -> dict[str, int]:
        """Calls per outcome (``unfinished`` for rows without one)."""
        with self._lock:
            rows = self._db.execute("SELECT COALESCE(outcome, 'unfinished'), COUNT(*) FROM calls GROUP BY 1").fetchall()
        return dict(rows)

    def calls_between(self, since: float, until: float | None = None) -> list[CallSummary]:
        """Headers of the calls started in ``[since, until)``, every worker's."""
        with self._lock:
            rows = self._db.execute(
                "SELECT call_id, worker, started_wall, duration, outcome, language FROM calls "
                "WHERE started_wall >= ? AND started_wall < ? ORDER BY started_wall, rowid",
                (since, float("inf") if until is None else until)).fetchall()
        return [CallSummary(*r) for r in rows]

    def handoff_events(self, since: float = 0.0) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute("SELECT body FROM handoff_events WHERE at >= ? ORDER BY at, rowid",
                                    (since,)).fetchall()
        return [json.loads(b) for (b,) in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()
