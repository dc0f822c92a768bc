"""``CallerHistory``: the one object the rest of ivr talks to about history.

It turns a finished call (its record and dialog state) into a ``Contact``,
takes the agent's wrap-up, answers "what do we know about this caller" for
the flows and the agent's screen pop, and carries out the PDPA requests:
export a customer's history, erase it, and drop what is past retention."""
from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from ivr.dsn import mask_url
from ivr.history.keys import NumberKeyer, mask_number
from ivr.history.models import DAY, NOT_INTENTS, Contact, HistorySummary, summarize
from ivr.history.sqlite_store import SqliteHistoryStore
from ivr.history.store import HistoryStore, HistoryStoreError
from ivr.log import get_logger
from ivr.redact import redact

log = get_logger(__name__)
DB_ENV = "IVR_HISTORY_DB"
DEFAULT_RETENTION_DAYS = 365 * 2
SQLITE_PREFIX = "sqlite:///"
PG_PREFIXES = ("postgresql://", "postgres://")


class FinishedCall(Protocol):
    """What history reads off a call record (``ivr.session.records.CallRecord``)."""

    call_id: str
    transport: str
    caller: str
    started_wall: float
    duration: float | None
    outcome: str | None
    events: list[dict[str, Any]]


def default_history_path(bank_path: str | Path | None = None) -> Path:
    """Where files that sit beside the history go: ``$IVR_HISTORY_DB`` when it
    is a file, else ``history.sqlite3`` beside the bank's database."""
    import os

    env = os.environ.get(DB_ENV, "")
    if env and not env.startswith(PG_PREFIXES):
        return Path(env[len(SQLITE_PREFIX):] if env.startswith(SQLITE_PREFIX) else env)
    from ivr.backends.demo_bank import default_bank_path

    return Path(bank_path or default_bank_path()).with_name("history.sqlite3")


def default_history_store(bank_path: str | Path | None = None) -> str:
    """The history store to open: ``$IVR_HISTORY_DB`` (a path, ``sqlite:///path``
    or ``postgresql://…``), else ``history.sqlite3`` beside the bank."""
    import os

    env = os.environ.get(DB_ENV, "")
    return env if env.startswith(PG_PREFIXES) else str(default_history_path(bank_path))


def open_history_store(where: str | Path) -> tuple[HistoryStore, str | None]:
    """The store ``where`` names: ``postgresql://…`` (shared by a cluster),
    ``sqlite:///path`` or a bare path; with the file path (None: shared) the
    number key sits beside."""
    text = str(where)
    if text.startswith(PG_PREFIXES):
        from ivr.history.pg_store import PgHistoryStore

        return PgHistoryStore(text), None
    if "://" in text and not text.startswith(SQLITE_PREFIX):
        raise HistoryStoreError("unknown history URL; use sqlite:///path or postgresql://user@host/db",
                                mask_url(text))
    path = text[len(SQLITE_PREFIX):] if text.startswith(SQLITE_PREFIX) else text
    if not path:
        raise HistoryStoreError("sqlite URL needs a path: sqlite:///var/history.sqlite3", text)
    return SqliteHistoryStore(path), path


def _get(state: Any, key: str, default: Any = None) -> Any:
    return state.get(key, default) if isinstance(state, Mapping) else getattr(state, key, default)


class CallerHistory:
    def __init__(self, store: HistoryStore, keyer: NumberKeyer, *, now: Callable[[], float] = time.time,
                 retention_days: float = DEFAULT_RETENTION_DAYS) -> None:
        self.store, self.keyer, self.now, self.retention_days = store, keyer, now, retention_days

    @classmethod
    def open(cls, where: str | Path, **kw: Any) -> CallerHistory:
        """The history at a path or URL (``open_history_store``). A shared store
        takes its number key from ``$IVR_HISTORY_KEY`` only: every worker must
        hash a number alike."""
        if str(where).startswith(PG_PREFIXES):  # the key is checked before any connection is made
            keyer = NumberKeyer.for_store(None, shared=True)
            return cls(open_history_store(where)[0], keyer, **kw)
        store, path = open_history_store(where)
        try:
            keyer = NumberKeyer.for_store(path)
        except Exception:
            store.close()
            raise
        return cls(store, keyer, **kw)

    # -- writing ----------------------------------------------------------
    def contact_of(self, record: FinishedCall, state: Any) -> Contact:
        """The history line of a finished call, from its record and dialog state."""
        slots = dict(_get(state, "slots") or {}) if state is not None else {}
        intents: list[str] = []
        for t in (_get(state, "turns") or []) if state is not None else []:
            i = t.get("intent") if isinstance(t, Mapping) else None
            if i and i not in NOT_INTENTS and i not in intents:
                intents.append(str(i))
        final = _get(state, "intent") if state is not None else None
        if final and final not in NOT_INTENTS:
            if final in intents:
                intents.remove(final)
            intents.append(str(final))  # the reason the call ended on comes last
        transfers = [e for e in record.events if e.get("kind") == "transfer"]
        last = transfers[-1] if transfers else {}
        campaign = str(slots.get("campaign") or "")
        outbound = bool(campaign) or record.transport.endswith("-out") or record.transport == "outbound"
        return Contact(
            call_id=record.call_id, started=record.started_wall, direction="outbound" if outbound else "inbound",
            customer_id=str(slots.get("customer_id") or ""), number_key=self.keyer(record.caller),
            number_shown=mask_number(record.caller), intents=tuple(intents), outcome=str(record.outcome or ""),
            queue=str(last.get("queue") or ""), ticket=str(last.get("ticket") or ""),
            duration=round(float(record.duration or 0.0), 3), campaign=campaign,
            result=str(slots.get("call_result") or ""))

    def record_call(self, record: FinishedCall, state: Any) -> Contact | None:
        """The session's end-of-call hook. History being down loses this line
        of history, never the call or its record: failures are logged."""
        try:
            contact = self.contact_of(record, state)
            self.store.add(contact)
            return contact
        except Exception as e:
            log.error("caller history not written for call %s: %s", record.call_id, str(e).splitlines()[0][:200])
            return None

    def record_attempt(self, call_id: str, number: str, *, campaign: str, outcome: str, started: float,
                       customer_id: str = "") -> Contact | None:
        """An outbound attempt no session recorded (no answer, busy, a voicemail,
        a failure): its line of history, so the agent sees "called 3 times, no answer"."""
        try:
            contact = Contact(call_id=call_id, started=started, direction="outbound", customer_id=str(customer_id),
                              number_key=self.keyer(number), number_shown=mask_number(number), outcome=outcome,
                              campaign=campaign, result=outcome)
            self.store.add(contact)
            return contact
        except Exception as e:
            log.error("caller history: attempt %s not written: %s", call_id, str(e).splitlines()[0][:200])
            return None

    def wrap_up(self, call_id: str, agent: str, code: str, notes: str = "") -> bool:
        """The agent's wrap-up (disposition code and note, redacted) joins the call's line."""
        try:
            return self.store.wrap_up(call_id, agent, code, redact(notes or "")[:500])
        except Exception as e:
            log.error("caller history: wrap-up of call %s not written: %s", call_id, str(e).splitlines()[0][:200])
            return False

    # -- reading ----------------------------------------------------------
    def contacts(self, *, caller: str = "", customer_id: str = "", days: float | None = 90) -> list[Contact]:
        key = self.keyer(caller) if caller else ""
        since = None if days is None else self.now() - days * DAY
        return self.store.find(str(customer_id or ""), [key] if key else [], since)

    def summary(self, *, caller: str = "", customer_id: str = "", call_id: str = "") -> HistorySummary:
        return summarize(self.contacts(caller=caller, customer_id=customer_id), self.now(), exclude_call=call_id)

    # -- PDPA ---------------------------------------------------------------
    def export(self, customer_id: str) -> dict[str, Any]:
        """Everything history holds on the customer (their identified calls and
        the unidentified ones from their numbers), for a data-subject request."""
        cid = str(customer_id)
        keys = self.store.number_keys_of(cid)
        found = self.store.find(cid, keys, None)
        contacts = [c for c in found if c.customer_id in ("", cid)]
        rows = [{k: v for k, v in c.to_dict().items() if k != "number_key"}  # the hash is no use to the customer
                for c in sorted(contacts, key=lambda c: c.started)]
        return {"customer_id": cid, "exported_at": self.now(), "contacts": rows}

    def call_ids_of(self, customer_id: str) -> list[str]:
        """The calls history links to the customer (what an erasure must reach in the call records too)."""
        return [str(c["call_id"]) for c in self.export(customer_id)["contacts"]]

    def erase(self, customer_id: str) -> int:
        n = self.store.erase(str(customer_id), self.now())
        log.info("caller history erased for a customer", extra={"contacts": n})
        return n

    def prune(self, days: float | None = None) -> int:
        """Drop contacts older than the retention period."""
        return self.store.prune(self.now() - (self.retention_days if days is None else days) * DAY)

    def close(self) -> None:
        self.store.close()
