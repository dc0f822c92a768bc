"""The backend action flows call to learn about a caller: ``customer_context``.

One action, so ``Dialog.step`` stays pure: the flow calls it (at the start of
the call with the caller number, after identification with the customer id),
and saves ``history`` (what it branches on: ``history.calls_7d``,
``history.last_intent``, ``history.open_complaint``, ``history.repeat_queue``)
and ``value`` (score, tier, priority, skip_menu, reasons) into its slots, from
where the handoff's context bundle carries them to the agent's screen."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ivr.errors import IvrError
from ivr.history.models import HistorySummary
from ivr.history.service import CallerHistory
from ivr.history.value import ValueModel
from ivr.log import get_logger

log = get_logger(__name__)
ACTIONS = ("customer_context",)
ProfileLookup = Callable[..., Mapping[str, Any]]


class ContextActions:
    """``history`` is opened on first use (a validate run never creates the file)."""

    def __init__(self, history: Callable[[], CallerHistory | None], profile: ProfileLookup | None,
                 value: ValueModel | None) -> None:
        self._open_history, self.profile, self.value = history, profile, value
        self._history: CallerHistory | None = None
        self._opened = False

    @property
    def history(self) -> CallerHistory | None:
        if not self._opened:
            self._opened = True
            try:
                self._history = self._open_history()
            except IvrError as e:  # calls go on without history (and say so once)
                log.error("caller history unavailable: %s", str(e).splitlines()[0][:200])
        return self._history

    def _summary(self, history: CallerHistory | None, caller: str, cid: str, call_id: str) -> HistorySummary:
        """The caller's history; an empty one while the store is down (the call
        goes on through the menu as for a first-time caller)."""
        if history is None:
            return HistorySummary()
        try:
            return history.summary(caller=caller, customer_id=cid, call_id=call_id)
        except IvrError as e:
            log.error("caller history unavailable, call %s goes on without it: %s", call_id or "-",
                      str(e).splitlines()[0][:200])
            return HistorySummary()

    def customer_context(self, caller: str = "", customer_id: Any = "", call_id: str | None = None) -> dict[str, Any]:
        """``call_id`` (the session's) keeps this call out of its own history.
        Before identification (no customer id) the history is that of the
        caller's number only; the profile behind a known caller number still
        sets the value, which only ranks the call (it never verifies anyone)."""
        cid = str(customer_id or "").strip()
        summary = self._summary(self.history, caller, cid, call_id or "")
        facts: dict[str, Any] = {}
        if self.profile is not None:
            prof = dict(self.profile(customer_id=cid, caller=caller) or {})
            if prof.get("ok") is not False:
                facts.update(prof)
        value = None
        if self.value is not None and facts:
            facts.update(complaints_90d=summary.complaints_90d, open_complaint=summary.open_complaint,
                         calls_7d=summary.calls_7d, last_intent=summary.last_intent)
            value = self.value.score(facts)
        return {"history": summary.as_slot(), "value": value.as_slot() if value else {},
                "customer_tier": value.tier if value else "", "repeat_label": summary.repeat_label}

    def register(self, registry: Any) -> Any:
        registry.register("customer_context", self.customer_context)
        return registry
