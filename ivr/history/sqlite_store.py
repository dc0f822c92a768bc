"""Caller history on SQLite (WAL): one ``contacts`` row per call."""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from ivr.history.models import Contact
from ivr.history.store import HistoryStore, HistoryStoreError
from ivr.sqlite_db import LockedSqlite

_SCHEMA = """
CREATE TABLE IF NOT EXISTS contacts (
    call_id TEXT PRIMARY KEY,
    started REAL NOT NULL,
    customer_id TEXT NOT NULL DEFAULT '',
    number_key TEXT NOT NULL DEFAULT '',
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS contacts_customer ON contacts(customer_id, started);
CREATE INDEX IF NOT EXISTS contacts_number ON contacts(number_key, started);
CREATE TABLE IF NOT EXISTS erasures (at REAL NOT NULL, contacts INTEGER NOT NULL);
"""


class SqliteHistoryStore(LockedSqlite, HistoryStore):
    """Safe to share between the calls of one process (one connection behind a
    lock); several processes may open the same file."""

    def __init__(self, path: str | Path = ":memory:") -> None:
        LockedSqlite.__init__(self, path, _SCHEMA, HistoryStoreError, "caller history")

    def add(self, contact: Contact) -> None:
        self._run("INSERT OR REPLACE INTO contacts (call_id, started, customer_id, number_key, data) "
                  "VALUES (?,?,?,?,?)", (contact.call_id, contact.started, contact.customer_id, contact.number_key,
                                         json.dumps(contact.to_dict(), ensure_ascii=False)))

    def _get(self, call_id: str) -> Contact | None:
        rows = self._run("SELECT data FROM contacts WHERE call_id=?", (call_id,))
        return Contact.from_dict(json.loads(rows[0][0])) if rows else None

    def wrap_up(self, call_id: str, agent: str, code: str, notes: str) -> bool:
        c = self._get(call_id)
        if c is None:
            return False
        from dataclasses import replace

        self.add(replace(c, agent=agent, wrap_up=code, notes=notes))
        return True

    def find(self, customer_id: str = "", number_keys: Sequence[str] = (), since: float | None = None) -> list[Contact]:
        keys = [k for k in number_keys if k]
        where: list[str] = []
        args: list[str | float] = []
        if customer_id:
            where.append("customer_id = ?")
            args.append(customer_id)
        if keys:
            where.append(f"number_key IN ({','.join('?' * len(keys))})")
            args.extend(keys)
        if not where:
            return []
        sql = f"SELECT data FROM contacts WHERE ({' OR '.join(where)})"
        if since is not None:
            sql += " AND started >= ?"
            args.append(since)
        rows = self._run(sql + " ORDER BY started DESC", tuple(args))
        return [Contact.from_dict(json.loads(r[0])) for r in rows]

    def number_keys_of(self, customer_id: str) -> list[str]:
        if not customer_id:
            return []
        rows = self._run("SELECT DISTINCT number_key FROM contacts WHERE customer_id=? AND number_key != ''",
                         (customer_id,))
        return [r[0] for r in rows]

    def erase(self, customer_id: str, at: float) -> int:
        if not customer_id:
            return 0
        keys = self.number_keys_of(customer_id)
        marks = ",".join("?" * len(keys))
        try:
            with self._lock:
                self._db.execute("BEGIN IMMEDIATE")
                n = self._db.execute("DELETE FROM contacts WHERE customer_id=?", (customer_id,)).rowcount
                if keys:  # the calls from their numbers before they were identified
                    n += self._db.execute(f"DELETE FROM contacts WHERE customer_id='' AND number_key IN ({marks})",
                                          tuple(keys)).rowcount
                self._db.execute("INSERT INTO erasures (at, contacts) VALUES (?,?)", (at, n))
                self._db.execute("COMMIT")
        except sqlite3.Error as e:
            with self._lock:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
            raise HistoryStoreError(f"caller history: {e}", self.path) from None
        return n

    def prune(self, before: float) -> int:
        try:
            with self._lock:
                return self._db.execute("DELETE FROM contacts WHERE started < ?", (before,)).rowcount
        except sqlite3.Error as e:
            raise HistoryStoreError(f"caller history: {e}", self.path) from None

    def erasures(self) -> list[tuple[float, int]]:
        return [(float(a), int(n)) for a, n in self._run("SELECT at, contacts FROM erasures ORDER BY rowid")]

