"""Call records in PostgreSQL: one database for every worker of a cluster.

Same rows and the same redaction as the SQLite store (``records_sqlite``),
written the same way: the call's row when it starts, each event in its own
autocommitted INSERT as it happens, the outcome at the end. A worker killed
mid-call therefore leaves every event up to its last one, and the next
start-up on that host closes the call as ``interrupted`` (owner tokens are
host-bound: a call of a worker on another host is never closed from here).

Connections come from a psycopg 3 pool. The schema is the versioned SQL
files in ``records_migrations/``, applied at open under an advisory lock
(two workers starting together apply each file once) and noted in
``schema_version``.

Outages: the call loop writes synchronously, so a database that is down must
not cost each event a connection timeout. The first failed write marks the
store down; while down, writes fail at once (``RecordWriter`` keeps them in
order in memory) and one background probe a second asks the pool for a
connection; when it gets one the store is up and the backlog catches up.
"""
from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from ivr.log import get_logger
from ivr.pg_db import PgPooled, apply_migrations, load_migrations
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

log = get_logger(__name__)
_MIGRATION_LOCK = 0x1F2_CA11  # pg_advisory_xact_lock key: one migrating worker at a time
_HEADER = ("call_id, transport, caller, language, started_wall, ended_wall, duration, outcome, end_reason, "
           "caller_audio, bot_audio")


def migrations() -> list[tuple[int, str, str]]:
    """``(version, name, sql)`` of every shipped migration, in order."""
    return load_migrations("ivr.session.records_migrations", RecordStoreError)


def migrate(conn: Any, where: str) -> list[int]:
    """Apply the migrations ``conn``'s database lacks; returns the versions applied."""
    return apply_migrations(conn, migrations(), table="schema_version", lock_key=_MIGRATION_LOCK,
                            error=RecordStoreError, what="call records", where=where)


class PgRecordStore(PgPooled):
    """PostgreSQL call records (``CallRecords``), shared by many workers.

    ``url`` is a libpq URI (``postgresql://user:pw@host:5432/db`` or
    ``postgresql:///db?host=/run/postgresql``); ``worker`` names this worker on
    every call it begins (reports group by it)."""

    def __init__(self, url: str, *, redact: bool = True, keep_audio: bool = False, worker: str = "",
                 audio_dir: str | Path | None = None, pool_size: int = 4, timeout: float = 2.0,
                 retry_after: float = 1.0) -> None:
        self.redact = redact
        self.worker = worker
        self.audio_dir = Path(audio_dir) if audio_dir else None
        self.keep_audio = keep_audio and self.audio_dir is not None
        self._seq: dict[str, int] = {}
        self._owner = owner_token()
        PgPooled.__init__(self, url, error=RecordStoreError, what="call records", name="records",
                          migrations="ivr.session.records_migrations", version_table="schema_version",
                          lock_key=_MIGRATION_LOCK, pool_size=pool_size, timeout=timeout, retry_after=retry_after)

    # -- writing ----------------------------------------------------------
    def begin(self, record: CallRecord) -> str:
        """Add the call's row; a call id already recorded gets the next free
        ``<id>-a2``, ``-a3``… (as in SQLite). Sets and returns ``record.call_id``."""
        caller = clean(record.caller, self.redact)

        def insert(conn: Any) -> str:
            base, n = record.call_id, 1
            while True:
                cid = base if n == 1 else f"{base}-a{n}"
                row = conn.execute(
                    "INSERT INTO calls (call_id, transport, caller, language, started_wall, owner, worker) "
                    "VALUES (%s,%s,%s,%s,%s,%s,%s) ON CONFLICT (call_id) DO NOTHING RETURNING call_id",
                    (cid, clean(record.transport, False), caller, record.language, record.started_wall,
                     self._owner, self.worker)).fetchone()
                if row is not None:
                    return cid
                n += 1

        record.call_id = self._run("write call record", insert)
        self._seq[record.call_id] = 0
        return record.call_id

    def add_event(self, call_id: str, event: dict[str, Any]) -> None:
        seq = self._seq.get(call_id, 0)
        self._seq[call_id] = seq + 1
        t, kind, data = event_row(event, self.redact)
        self._run("write call record", lambda c: c.execute(
            "INSERT INTO events (call_id, seq, t, kind, data) VALUES (%s,%s,%s,%s,%s::jsonb)",
            (call_id, seq, t, kind, data)))

    def finish(self, record: CallRecord) -> None:
        check_outcome(record)
        self._run("write call record", lambda c: c.execute(
            "UPDATE calls SET ended_wall=%s, duration=%s, outcome=%s, end_reason=%s, language=%s, caller_audio=%s, "
            "bot_audio=%s WHERE call_id=%s",
            (record.ended_wall, record.duration, record.outcome, record.end_reason, record.language,
             record.caller_audio, record.bot_audio, record.call_id)))
        self._seq.pop(record.call_id, None)

    def erase_calls(self, call_ids: Sequence[str]) -> int:
        """PDPA erasure of a customer's calls (as ``CallRecordStore.erase_calls``)."""
        ids = sorted({str(c) for c in call_ids if c})
        if not ids:
            return 0

        def erase(conn: Any) -> tuple[int, list[tuple[Any, ...]]]:
            with conn.transaction():
                audio = conn.execute("SELECT caller_audio, bot_audio FROM calls WHERE call_id = ANY(%s)",
                                     (ids,)).fetchall()
                conn.execute("DELETE FROM events WHERE call_id = ANY(%s)", (ids,))
                n = conn.execute("UPDATE calls SET caller='', caller_audio=NULL, bot_audio=NULL "
                                 "WHERE call_id = ANY(%s)", (ids,)).rowcount
            return int(n), audio

        n, audio = self._run("erase calls", erase)
        remove_audio(p for row in audio for p in row)
        return n

    def erase_handoff_notes(self, ticket_ids: Sequence[str]) -> int:
        """PDPA (as ``CallRecordStore.erase_handoff_notes``): wrap-up notes of these tickets' events go."""
        ids = sorted({str(t) for t in ticket_ids if t})
        if not ids:
            return 0
        return int(self._run("erase handoff notes", lambda c: c.execute(
            "UPDATE handoff_events SET body = body || jsonb_build_object('note', '') WHERE body->>'ticket' = ANY(%s) "
            "AND COALESCE(body->>'note', '') <> ''", (ids,)).rowcount))

    def close_interrupted(self) -> list[tuple[str, list[str]]]:
        """Close the records of calls whose worker (on this host) died mid-call,
        as ``interrupted``; returns ``(call_id, handoff tickets it queued)``.
        Two workers recovering at once close each call once (the UPDATE
        only takes a row still open)."""
        rows = self._run("read call records", lambda c: c.execute(
            "SELECT call_id, owner FROM calls WHERE outcome IS NULL").fetchall())
        out: list[tuple[str, list[str]]] = []
        for call_id, owner in rows:
            if owner == self._owner or not is_dead(owner):
                continue

            def close(conn: Any, call_id: str = call_id) -> list[str] | None:
                with conn.transaction():
                    done = conn.execute(
                        "UPDATE calls c SET ended_wall = c.started_wall + m.last, "
                        "duration = ROUND(m.last::numeric, 3)::float8, outcome = 'interrupted', "
                        "end_reason = 'worker_died' FROM (SELECT COALESCE(MAX(t), 0) AS last FROM events "
                        "WHERE call_id=%s) m WHERE c.call_id=%s AND c.outcome IS NULL RETURNING c.call_id",
                        (call_id, call_id)).fetchone()
                    if done is None:
                        return None  # another worker closed it first
                    evs = conn.execute("SELECT kind, data::text FROM events WHERE call_id=%s AND kind='transfer' "
                                       "ORDER BY seq", (call_id,)).fetchall()
                return tickets_of(evs)

            tickets = self._run("close interrupted call", close)
            if tickets is not None:
                out.append((call_id, tickets))
        return out

    def audio_path(self, call_id: str, side: str) -> Path | None:
        """Audio stays on the worker's disk (``audio_dir``); the record names the file."""
        if not self.keep_audio or self.audio_dir is None:
            return None
        safe = "".join(c for c in call_id if c.isalnum() or c in "-_") or "call"
        self.audio_dir.mkdir(parents=True, exist_ok=True)
        return self.audio_dir / f"{safe}-{side}.wav"

    def add_handoff_events(self, events: Sequence[Mapping[str, Any]]) -> None:
        """Queue events for reports; one already stored (same ``eid``) is skipped."""
        rows = [(*handoff_event_row(e), self.worker) for e in events]

        def insert(conn: Any) -> None:
            with conn.transaction(), conn.cursor() as cur:
                cur.executemany("INSERT INTO handoff_events (eid, at, type, queue, agent, body, worker) "
                                "VALUES (%s,%s,%s,%s,%s,%s::jsonb,%s) ON CONFLICT (eid) DO NOTHING", rows)

        self._run("write handoff events", insert)

    # -- reading ----------------------------------------------------------
    def get(self, call_id: str) -> CallRecord | None:
        def read(conn: Any) -> CallRecord | None:
            row = conn.execute(f"SELECT {_HEADER} FROM calls WHERE call_id=%s", (call_id,)).fetchone()
            if row is None:
                return None
            evs = conn.execute("SELECT t, kind, data::text FROM events WHERE call_id=%s ORDER BY seq",
                               (call_id,)).fetchall()
            rec = CallRecord(*row)
            rec.events = [{"kind": k, "t": t, **json.loads(d)} for t, k, d in evs]
            return rec

        return self._run("read call records", read)

    def call_ids(self) -> list[str]:
        rows = self._run("read call records", lambda c: c.execute(
            "SELECT call_id FROM calls ORDER BY started_wall, id").fetchall())
        return [r[0] for r in rows]

    def __iter__(self) -> Iterator[CallRecord]:
        for cid in self.call_ids():
            rec = self.get(cid)
            if rec is not None:
                yield rec

    def counts(self) -> dict[str, int]:
        """Calls per outcome (``unfinished`` for rows without one), every worker's."""
        rows = self._run("read call records", lambda c: c.execute(
            "SELECT COALESCE(outcome, 'unfinished'), COUNT(*) FROM calls GROUP BY 1").fetchall())
        return {k: int(n) for k, n in rows}

    def calls_between(self, since: float, until: float | None = None) -> list[CallSummary]:
        rows = self._run("read call records", lambda c: c.execute(
            "SELECT call_id, worker, started_wall, duration, outcome, language FROM calls "
            "WHERE started_wall >= %s AND started_wall < %s ORDER BY started_wall, id",
            (since, float("inf") if until is None else until)).fetchall())
        return [CallSummary(*r) for r in rows]

    def handoff_events(self, since: float = 0.0) -> list[dict[str, Any]]:
        rows = self._run("read handoff events", lambda c: c.execute(
            "SELECT body::text FROM handoff_events WHERE at >= %s ORDER BY at, id", (since,)).fetchall())
        return [json.loads(b) for (b,) in rows]

    def schema_version(self) -> int:
        row = self._run("read call records", lambda c: c.execute(
            "SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone())
        return int(row[0])
