"""Caller history in PostgreSQL: one history for every worker of a cluster.

Same contract and rows as the SQLite store (``sqlite_store``): one
``history_contacts`` row per call (call id, start, customer id, the number's
keyed hash, the contact as JSON) and a ``history_erasures`` row per PDPA
erasure. The pool, the migrations (``pg_migrations/``) and the outage rule
are the shared ones (``ivr.pg_db``): while the server is down every call
fails at once with one line and ``CallerHistory`` carries on without history;
a background probe notices when it is back."""
from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ivr.history.models import Contact
from ivr.history.store import HistoryStore, HistoryStoreError
from ivr.pg_db import PgPooled

_MIGRATION_LOCK = 0x1F2_C0DE  # pg_advisory_xact_lock key of the history's migrations


def _json(contact: Contact) -> str:
    # PostgreSQL's jsonb refuses \u0000; a NUL has no business in a contact anyway
    return json.dumps(contact.to_dict(), ensure_ascii=False).replace("\\u0000", "")


class PgHistoryStore(PgPooled, HistoryStore):
    """``url`` is a libpq URI (``postgresql://user:pw@host:5432/db``); the tables
    (``history_*``) may share the call records' database."""

    def __init__(self, url: str, *, pool_size: int = 4, timeout: float = 2.0, retry_after: float = 1.0) -> None:
        PgPooled.__init__(self, url, error=HistoryStoreError, what="caller history", name="history",
                          migrations="ivr.history.pg_migrations", version_table="history_schema_version",
                          lock_key=_MIGRATION_LOCK, pool_size=pool_size, timeout=timeout, retry_after=retry_after)
        self.path = self.url  # what messages and the CLI name the store by, as the SQLite store's path

    def add(self, contact: Contact) -> None:
        self._run("write caller history", lambda c: c.execute(
            "INSERT INTO history_contacts (call_id, started, customer_id, number_key, data) "
            "VALUES (%s,%s,%s,%s,%s::jsonb) ON CONFLICT (call_id) DO UPDATE SET started=excluded.started, "
            "customer_id=excluded.customer_id, number_key=excluded.number_key, data=excluded.data",
            (contact.call_id, contact.started, contact.customer_id, contact.number_key, _json(contact))))

    def wrap_up(self, call_id: str, agent: str, code: str, notes: str) -> bool:
        # one UPDATE: two workers' writes to the same call never lose each other's fields
        n = self._run("write caller history", lambda c: c.execute(
            "UPDATE history_contacts SET data = data || jsonb_build_object('agent', %s::text, 'wrap_up', %s::text, "
            "'notes', %s::text) WHERE call_id=%s",
            (agent, code, notes.replace("\x00", ""), call_id)).rowcount)
        return bool(n)

    def find(self, customer_id: str = "", number_keys: Sequence[str] = (), since: float | None = None) -> list[Contact]:
        keys = [k for k in number_keys if k]
        if not customer_id and not keys:
            return []
        rows = self._run("read caller history", lambda c: c.execute(
            "SELECT data::text FROM history_contacts WHERE ((%s <> '' AND customer_id = %s) OR number_key = ANY(%s)) "
            "AND started >= %s ORDER BY started DESC, call_id",
            (customer_id, customer_id, keys, float("-inf") if since is None else since)).fetchall())
        return [Contact.from_dict(json.loads(r[0])) for r in rows]

    def number_keys_of(self, customer_id: str) -> list[str]:
        if not customer_id:
            return []
        rows = self._run("read caller history", lambda c: c.execute(
            "SELECT DISTINCT number_key FROM history_contacts WHERE customer_id=%s AND number_key <> ''",
            (customer_id,)).fetchall())
        return [r[0] for r in rows]

    def erase(self, customer_id: str, at: float) -> int:
        if not customer_id:
            return 0

        def erase(conn: Any) -> int:
            with conn.transaction():
                keys = [r[0] for r in conn.execute(
                    "SELECT DISTINCT number_key FROM history_contacts WHERE customer_id=%s AND number_key <> ''",
                    (customer_id,)).fetchall()]
                n = conn.execute("DELETE FROM history_contacts WHERE customer_id=%s", (customer_id,)).rowcount
                if keys:  # the calls from their numbers before they were identified
                    n += conn.execute("DELETE FROM history_contacts WHERE customer_id='' AND number_key = ANY(%s)",
                                      (keys,)).rowcount
                conn.execute("INSERT INTO history_erasures (at, contacts) VALUES (%s,%s)", (at, n))
            return int(n)

        return self._run("erase caller history", erase)

    def prune(self, before: float) -> int:
        return int(self._run("prune caller history", lambda c: c.execute(
            "DELETE FROM history_contacts WHERE started < %s", (before,)).rowcount))

    def erasures(self) -> list[tuple[float, int]]:
        rows = self._run("read caller history", lambda c: c.execute(
            "SELECT at, contacts FROM history_erasures ORDER BY id").fetchall())
        return [(float(a), int(n)) for a, n in rows]

    def close(self) -> None:
        PgPooled.close(self)
