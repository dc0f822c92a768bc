"""Handoff errors a caller of the API (or an agent at the desktop) can act on."""
from __future__ import annotations

from ivr.errors import IvrError


class HandoffError(IvrError):
    """Bad input to the handoff queue: unknown queue, bad priority, bad bundle."""


class UnknownTicket(HandoffError):
    """No handoff with that ticket id in the store."""


class StateConflict(HandoffError):
    """The ticket or agent is no longer in the state the action needs
    (another worker or agent got there first)."""


class StoreError(HandoffError):
    """The queue store cannot be opened or reached (bad URL, server down)."""
