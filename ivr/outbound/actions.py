"""Backend actions the outbound flows call (``Dialog.step`` stays pure):

* ``campaign_contact(number)``: the contact's CSV columns (amount, due_date,
  merchant…) for the call the dialer placed, put here by the dialer;
* ``promise_date(text | keys, due_date)``: a promise-to-pay date said or keyed,
  checked (not in the past, at most ``MAX_PROMISE_DAYS`` after the due date);
* ``campaign_outcome(result, promise_date)``: what the call achieved
  (promised_to_pay, confirmed, blocked, wrong_person…), kept for the dialer and
  returned as ``call_result`` for the flow to save (caller history reads it).

The call id is the session's (``BackendRegistry.call(..., call_id=)``), never the flow's."""
from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from ivr.outbound.promise import TAIPEI_TODAY_OFFSET, from_keys, from_speech

ACTIONS = ("campaign_contact", "promise_date", "campaign_outcome")
RESULTS = ("promised_to_pay", "confirmed", "blocked", "wrong_person", "refused", "callback")
MAX_PROMISE_DAYS = 30


class CampaignCalls:
    """Outbound calls in progress in this process: call id -> the contact's data and outcome."""

    def __init__(self, now: Callable[[], float] = time.time,
                 directory: Callable[[str], Mapping[str, Any]] | None = None) -> None:
        self.now = now
        # where a call no dialer registered finds its row (the demo bank, for ivr chat and QA replays)
        self.directory = directory
        self._lock = threading.Lock()
        self._contacts: dict[str, dict[str, str]] = {}
        self.outcomes: dict[str, dict[str, str]] = {}

    def add(self, call_id: str, campaign: str, contact_id: str, variables: Mapping[str, str]) -> None:
        with self._lock:
            self._contacts[call_id] = {**{str(k): str(v) for k, v in variables.items()},
                                       "campaign": campaign, "contact_id": contact_id}

    def pop(self, call_id: str) -> dict[str, str] | None:
        """The outcome of a finished call (and forget it)."""
        with self._lock:
            self._contacts.pop(call_id, None)
            return self.outcomes.pop(call_id, None)

    def today(self) -> dt.date:
        return dt.datetime.fromtimestamp(self.now() + TAIPEI_TODAY_OFFSET, dt.UTC).date()

    # -- actions ------------------------------------------------------------
    # ``call_id`` is the serving call's, given by the session (ivr.backends.registry), never by the flow
    def campaign_contact(self, number: str = "", call_id: str | None = None) -> dict[str, Any]:
        with self._lock:
            data = self._contacts.get(str(call_id)) if call_id else None
        if data is not None:
            return dict(data)
        if self.directory is not None and number:
            found = dict(self.directory(number))
            if found.get("ok") is not False:
                return {"campaign": "", "contact_id": "", **found}
        return {"ok": False, "error": "not_a_campaign_call"}

    def promise_date(self, text: str = "", keys: str = "", due_date: str = "") -> dict[str, Any]:
        today = self.today()
        day = from_keys(keys, today) if keys else from_speech(text, today)
        if day is None:
            return {"ok": False, "error": "not_a_date"}
        if day < today:
            return {"ok": False, "error": "in_the_past"}
        try:
            due = dt.date.fromisoformat(str(due_date)[:10]) if due_date else today
        except ValueError:
            due = today
        if (day - max(due, today)).days > MAX_PROMISE_DAYS:
            return {"ok": False, "error": "too_late"}
        return {"promise_date": day.isoformat()}

    def campaign_outcome(self, result: str, promise_date: str = "", call_id: str | None = None) -> dict[str, Any]:
        if result not in RESULTS:
            return {"ok": False, "error": f"unknown result {result!r}"}
        if call_id:
            with self._lock:
                self.outcomes[str(call_id)] = {"result": result, "promise_date": str(promise_date or "")}
        return {"call_result": result}

    def register(self, registry: Any) -> Any:
        for name in ACTIONS:
            registry.register(name, getattr(self, name))
        return registry
