"""Live-agent handoff: context bundle, ACD queues, stores, EWT, agent desktop.

The call session uses::

    store = open_store("sqlite:///var/ivr/queue.db")      # or redis://host:6379/0
    handoff = HandoffService(store)
    ticket = await handoff.enqueue(ContextBundle(...), "T2", priority=0)
    info = await handoff.wait_info(ticket)               # position + estimated wait for the announcement
    await handoff.request_callback(ticket, "0912345678")  # or
    await handoff.cancel(ticket)                          # caller hung up
    await handoff.record_call_outcome("contained")        # every call, for bot containment
"""
from __future__ import annotations

from ivr.handoff.bundle import ContextBundle, TranscriptTurn
from ivr.handoff.call_side import CallHandoff
from ivr.handoff.erlang import erlang_c, mean_wait, positional_wait, service_level
from ivr.handoff.errors import HandoffError, StateConflict, StoreError, UnknownTicket
from ivr.handoff.models import (
    AGENT_STATUSES,
    DISPOSITIONS,
    TIERS,
    AgentProfile,
    AgentState,
    QueueConfig,
    Ticket,
    default_queues,
)
from ivr.handoff.service import CALL_OUTCOMES, HandoffService, Offer
from ivr.handoff.simulate import SimResult, simulate_mmc
from ivr.handoff.store import Store, default_store_url, open_store
from ivr.handoff.wait import WaitInfo

# The name the architecture document uses for the queue API.
HandoffQueue = HandoffService


def create_app(service: HandoffService, **kw):
    """The agent desktop (FastAPI); imported lazily so the call path does not pull in web deps."""
    from ivr.handoff.desktop.app import create_app as _create

    return _create(service, **kw)


__all__ = [
    "AGENT_STATUSES", "CALL_OUTCOMES", "DISPOSITIONS", "TIERS", "AgentProfile", "AgentState", "CallHandoff",
    "ContextBundle",
    "HandoffError", "HandoffQueue", "HandoffService", "Offer", "QueueConfig", "SimResult", "StateConflict", "Store",
    "StoreError", "Ticket", "TranscriptTurn", "UnknownTicket", "WaitInfo", "create_app", "default_queues",
    "default_store_url", "erlang_c", "mean_wait", "open_store", "positional_wait", "service_level", "simulate_mmc",
]
