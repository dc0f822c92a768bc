"""Embedded default store: one SQLite file in WAL mode.

Durability: ``synchronous=FULL`` so a handoff that ``enqueue`` returned is on
disk even if the machine loses power, not only if the worker is killed (WAL +
NORMAL survives kill -9 but may drop the last commits on power loss; a lost
caller costs more than the fsync). Several worker processes on one host may
share the file: every change runs in a ``BEGIN IMMEDIATE`` transaction, which
takes the write lock before reading, so compare-and-set is atomic across
processes."""
from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ivr.handoff.errors import StoreError
from ivr.handoff.models import FINAL, WAITING, AgentProfile, AgentState, Ticket
from ivr.handoff.store.base import (
    ERASED_TICKET,
    Expect,
    check_changes,
    erased_bundle,
    erased_event,
    matches,
    token_key,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS tickets (
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL UNIQUE,
    queue TEXT NOT NULL,
    priority INTEGER NOT NULL,
    status TEXT NOT NULL,
    state TEXT NOT NULL,
    bundle TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS tickets_waiting ON tickets(queue, status, priority DESC, seq);
CREATE INDEX IF NOT EXISTS tickets_status ON tickets(status);
CREATE TABLE IF NOT EXISTS agents (id TEXT PRIMARY KEY, profile TEXT NOT NULL, state TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_at ON events(at);
CREATE TABLE IF NOT EXISTS sessions (token TEXT PRIMARY KEY, agent_id TEXT NOT NULL, expires REAL NOT NULL);
"""

TICKET_FIELDS = set(Ticket.__dataclass_fields__) - {"id", "seq", "call_id", "enqueued_at"}
AGENT_FIELDS = set(AgentState.__dataclass_fields__) - {"id"}


class SqliteStore:
    def __init__(self, path: str | Path, synchronous: str = "FULL") -> None:
        self.path = Path(path)
        self.url = f"sqlite:///{self.path}"
        if synchronous.upper() not in ("FULL", "NORMAL", "EXTRA"):
            raise StoreError(f"synchronous must be FULL, NORMAL or EXTRA, not {synchronous!r}", self.url)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: we issue BEGIN IMMEDIATE ourselves.
            self._db = sqlite3.connect(str(self.path), timeout=10.0, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={synchronous.upper()}")
            self._db.execute("PRAGMA busy_timeout=10000")
            for stmt in SCHEMA.strip().split(";"):
                if stmt.strip():
                    self._db.execute(stmt)
        except (sqlite3.Error, OSError) as e:
            raise StoreError(f"cannot open queue database ({e})", str(self.path)) from None
        self._lock = threading.RLock()

    # -- plumbing -------------------------------------------------------
    def _tx(self):
        return _Tx(self._db)

    def _q(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    @staticmethod
    def _ticket(row: tuple) -> Ticket:
        return Ticket.from_dict(json.loads(row[0]))

    # -- tickets ----------------------------------------------------------
    def add_ticket(self, ticket: Ticket, bundle: Mapping[str, Any], event: Mapping[str, Any]) -> Ticket:
        with self._lock, self._tx() as db:
            seq = (db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM tickets").fetchone()[0])
            t = ticket.with_(seq=seq)
            db.execute("INSERT INTO tickets(id, seq, queue, priority, status, state, bundle) VALUES (?,?,?,?,?,?,?)",
                       (t.id, seq, t.queue, t.priority, t.status, json.dumps(t.to_dict()),
                        json.dumps(bundle, ensure_ascii=False)))
            self._event(db, event)
            return t

    def get_ticket(self, ticket_id: str) -> Ticket | None:
        rows = self._q("SELECT state FROM tickets WHERE id=?", (ticket_id,))
        return self._ticket(rows[0]) if rows else None

    def get_bundle(self, ticket_id: str) -> dict[str, Any] | None:
        rows = self._q("SELECT bundle FROM tickets WHERE id=?", (ticket_id,))
        return json.loads(rows[0][0]) if rows else None

    def waiting(self, queue: str) -> list[Ticket]:
        rows = self._q("SELECT state FROM tickets WHERE queue=? AND status=? ORDER BY priority DESC, seq",
                       (queue, WAITING))
        return [self._ticket(r) for r in rows]

    def live_tickets(self) -> list[Ticket]:
        marks = ",".join("?" * len(FINAL))
        rows = self._q(f"SELECT state FROM tickets WHERE status NOT IN ({marks}) ORDER BY seq", FINAL)
        return [self._ticket(r) for r in rows]

    def position(self, ticket_id: str) -> int | None:
        with self._lock:
            row = self._db.execute("SELECT queue, priority, seq, status FROM tickets WHERE id=?",
                                   (ticket_id,)).fetchone()
            if not row or row[3] != WAITING:
                return None
            q, p, s, _ = row
            ahead = self._db.execute(
                "SELECT COUNT(*) FROM tickets WHERE queue=? AND status=? AND (priority>? OR (priority=? AND seq<?))",
                (q, WAITING, p, p, s)).fetchone()[0]
            return ahead + 1

    def transition(self, ticket_id, t_expect: Expect, t_changes, agent_id, a_expect: Expect, a_changes,
                   event=None) -> bool:
        check_changes(t_changes, TICKET_FIELDS, "ticket")
        check_changes(a_changes, AGENT_FIELDS, "agent")
        with self._lock, self._tx() as db:
            t = a = None
            if ticket_id:
                row = db.execute("SELECT state FROM tickets WHERE id=?", (ticket_id,)).fetchone()
                if not row:
                    return False
                t = json.loads(row[0])
                if not matches(t, t_expect):
                    return False
            if agent_id:
                row = db.execute("SELECT state FROM agents WHERE id=?", (agent_id,)).fetchone()
                if not row:
                    return False
                a = json.loads(row[0])
                if not matches(a, a_expect):
                    return False
            if t is not None:
                t.update(t_changes)
                db.execute("UPDATE tickets SET queue=?, priority=?, status=?, state=? WHERE id=?",
                           (t["queue"], t["priority"], t["status"], json.dumps(t), ticket_id))
            if a is not None:
                a.update(a_changes)
                db.execute("UPDATE agents SET state=? WHERE id=?", (json.dumps(a), agent_id))
            if event:
                self._event(db, event)
            return True

    # -- agents -----------------------------------------------------------
    def put_agent(self, profile: AgentProfile, state: AgentState | None = None) -> None:
        with self._lock, self._tx() as db:
            row = db.execute("SELECT state FROM agents WHERE id=?", (profile.id,)).fetchone()
            st = state.to_dict() if state else (json.loads(row[0]) if row else AgentState(profile.id).to_dict())
            db.execute("INSERT INTO agents(id, profile, state) VALUES (?,?,?) "
                       "ON CONFLICT(id) DO UPDATE SET profile=excluded.profile, state=excluded.state",
                       (profile.id, json.dumps(profile.to_dict(), ensure_ascii=False), json.dumps(st)))

    def get_agent(self, agent_id: str) -> AgentProfile | None:
        rows = self._q("SELECT profile FROM agents WHERE id=?", (agent_id,))
        return AgentProfile.from_dict(json.loads(rows[0][0])) if rows else None

    def agent_state(self, agent_id: str) -> AgentState | None:
        rows = self._q("SELECT state FROM agents WHERE id=?", (agent_id,))
        return AgentState.from_dict(json.loads(rows[0][0])) if rows else None

    def agents(self) -> list[tuple[AgentProfile, AgentState]]:
        rows = self._q("SELECT profile, state FROM agents ORDER BY id")
        return [(AgentProfile.from_dict(json.loads(p)), AgentState.from_dict(json.loads(s))) for p, s in rows]

    def remove_agent(self, agent_id: str) -> bool:
        with self._lock, self._tx() as db:
            n = db.execute("DELETE FROM agents WHERE id=?", (agent_id,)).rowcount
            db.execute("DELETE FROM sessions WHERE agent_id=?", (agent_id,))
            return n > 0

    # -- events, sessions -------------------------------------------------
    @staticmethod
    def _event(db: sqlite3.Connection, event: Mapping[str, Any]) -> None:
        db.execute("INSERT INTO events(at, body) VALUES (?, ?)",
                   (float(event["at"]), json.dumps(event, ensure_ascii=False)))

    def add_event(self, event: Mapping[str, Any]) -> None:
        with self._lock, self._tx() as db:
            self._event(db, event)

    def events(self, since: float = 0.0) -> list[dict[str, Any]]:
        return [json.loads(b) for (b,) in self._q("SELECT body FROM events WHERE at>=? ORDER BY id", (since,))]

    def put_session(self, token: str, agent_id: str, expires: float) -> None:
        with self._lock, self._tx() as db:
            db.execute("INSERT OR REPLACE INTO sessions(token, agent_id, expires) VALUES (?,?,?)",
                       (token_key(token), agent_id, expires))

    def get_session(self, token: str, now: float) -> str | None:
        rows = self._q("SELECT agent_id, expires FROM sessions WHERE token=?", (token_key(token),))
        return rows[0][0] if rows and rows[0][1] > now else None

    def drop_session(self, token: str) -> None:
        with self._lock, self._tx() as db:
            db.execute("DELETE FROM sessions WHERE token=?", (token_key(token),))

    # -- PDPA ---------------------------------------------------------------
    def tickets_of_calls(self, call_ids: Sequence[str]) -> list[Ticket]:
        ids = sorted({str(c) for c in call_ids if c})
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        rows = self._q(f"SELECT state FROM tickets WHERE json_extract(state, '$.call_id') IN ({marks}) ORDER BY seq",
                       tuple(ids))
        return [self._ticket(r) for r in rows]

    def erase_tickets(self, ticket_ids: Sequence[str]) -> int:
        """Closed tickets only (a live one is a call in progress): bundle cut to
        ``erased_bundle``, callback number and transfer notes blanked, wrap-up
        notes taken out of their events; queue, times and status stay for the counts."""
        ids = sorted({str(t) for t in ticket_ids if t})
        n = 0
        with self._lock, self._tx() as db:
            for tid in ids:
                row = db.execute("SELECT state, bundle FROM tickets WHERE id=?", (tid,)).fetchone()
                if not row:
                    continue
                t = json.loads(row[0])
                if t.get("status") not in FINAL:
                    continue
                t.update(ERASED_TICKET)
                db.execute("UPDATE tickets SET state=?, bundle=? WHERE id=?",
                           (json.dumps(t), json.dumps(erased_bundle(json.loads(row[1]), t["call_id"]),
                                                      ensure_ascii=False), tid))
                for eid, body in db.execute("SELECT id, body FROM events WHERE json_extract(body, '$.ticket')=?",
                                            (tid,)).fetchall():
                    ev = erased_event(json.loads(body))
                    if ev is not None:
                        db.execute("UPDATE events SET body=? WHERE id=?", (json.dumps(ev, ensure_ascii=False), eid))
                n += 1
        return n

    def clear(self) -> None:
        with self._lock, self._tx() as db:
            for table in ("tickets", "agents", "events", "sessions"):
                db.execute(f"DELETE FROM {table}")

    def close(self) -> None:
        with self._lock:
            self._db.close()


class _Tx:
    """BEGIN IMMEDIATE ... COMMIT, ROLLBACK on error."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.db.execute("COMMIT")
        else:
            self.db.execute("ROLLBACK")
