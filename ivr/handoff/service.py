"""The handoff service: what the call session and the agent desktop call.

ACD rules:
- a ticket may go to an agent whose skills include the ticket's queue;
- tickets are served highest priority first, then in arrival order (the
  customer's value priority, ``ContextBundle.value_priority``, is a floor
  under the dialog's priority; a verified high-value customer gets
  ``vip_boost`` on top);
- among the agents who may take it, one who speaks the caller's language
  (zh-TW / nan-TW) goes first, then one whose home tier is the queue's tier
  (specialists stay free for their own queue), then the one idle longest;
- a ticket waiting longer than its queue's ``overflow_after`` moves to
  ``overflow_to`` keeping its place by arrival;
- an offer not accepted within ``offer_timeout`` goes back to the queue and
  the agent is set away (ring-no-answer).

All state lives in the store, so any number of services (workers) can share
it. Methods are coroutines; store calls run in a worker thread so an fsync
never stalls the event loop."""
from __future__ import annotations

import asyncio
import dataclasses
import secrets
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ivr.dsn import mask_secrets
from ivr.frames import Transfer
from ivr.handoff.auth import PasswordPool, hash_password
from ivr.handoff.bundle import ContextBundle
from ivr.handoff.errors import HandoffError, StateConflict, StoreError, UnknownTicket
from ivr.handoff.models import (
    ABANDONED,
    AGENT_OFFERED,
    AGENT_WRAP_UP,
    AVAILABLE,
    AWAY,
    BUSY,
    CANCELLED,
    CONNECTED,
    DISPOSITIONS,
    DONE,
    MAX_PRIORITY,
    OFFERED,
    SETTABLE_STATUSES,
    TIERS,
    WAITING,
    WRAP_UP,
    AgentProfile,
    AgentState,
    QueueConfig,
    Ticket,
    default_queues,
)
from ivr.handoff.stats import supervisor_stats
from ivr.handoff.store import Store
from ivr.handoff.wait import WaitInfo, WaitInputs, announcement, expected_wait, finite_seconds, wait_inputs
from ivr.log import get_logger

log = get_logger(__name__)

CALL_OUTCOMES = ("contained", "transferred", "abandoned", "failed")


@dataclass(frozen=True, slots=True)
class Offer:
    ticket: Ticket
    agent_id: str


class HandoffService:
    def __init__(self, store: Store, queues: Mapping[str, QueueConfig] | None = None, *,
                 now: Callable[[], float] = time.time, offer_timeout: float = 20.0,
                 vip_boost: int = 5, callback_threshold: float = 300.0,
                 stats_window: float = 3600.0, session_ttl: float = 12 * 3600.0) -> None:
        self.store = store
        self.queues = dict(queues) if queues is not None else default_queues()
        for q in self.queues.values():
            if q.overflow_to and q.overflow_to not in self.queues:
                raise HandoffError(f"overflow_to {q.overflow_to!r} is not a queue", f"queue {q.name}")
        self.now = now
        self.offer_timeout = offer_timeout
        self.vip_boost = vip_boost
        self.callback_threshold = callback_threshold
        self.stats_window = stats_window
        self.session_ttl = session_ttl
        self.passwords = PasswordPool()
        self._waiters: dict[asyncio.Event, asyncio.AbstractEventLoop] = {}
        # told (call id, agent, disposition, note) after each wrap-up: caller history (ivr.history)
        self.wrap_up_listeners: list[Callable[[str, str, str, str], object]] = []

    # -- plumbing ---------------------------------------------------------
    async def _io(self, fn: Callable, *args: Any, **kw: Any) -> Any:
        return await asyncio.to_thread(fn, *args, **kw)

    def subscribe(self) -> asyncio.Event:
        """An event set whenever this worker changes something (the desktop
        also polls, for changes made by other workers)."""
        ev = asyncio.Event()
        self._waiters[ev] = asyncio.get_running_loop()
        return ev

    def unsubscribe(self, ev: asyncio.Event) -> None:
        self._waiters.pop(ev, None)

    def _notify(self) -> None:
        # The desktop may run on another thread's loop than the caller's.
        for ev, loop in list(self._waiters.items()):
            if not loop.is_closed():
                loop.call_soon_threadsafe(ev.set)

    def _queue(self, name: str) -> QueueConfig:
        q = self.queues.get(name)
        if q is None:
            raise HandoffError(f"unknown queue {name!r} (one of {', '.join(self.queues)})", "handoff")
        return q

    async def _ticket(self, ticket: Ticket | str) -> Ticket:
        tid = ticket.id if isinstance(ticket, Ticket) else ticket
        t = await self._io(self.store.get_ticket, tid)
        if t is None:
            raise UnknownTicket(f"no handoff {tid!r}", self.store.url)
        return t

    def _event(self, kind: str, **fields: Any) -> dict[str, Any]:
        return {"type": kind, "at": self.now(), **fields}

    # -- caller side ------------------------------------------------------
    async def enqueue(self, bundle: ContextBundle, queue: str, priority: int = 0) -> Ticket:
        """Put a call in ``queue``; returns its ticket. Offers it at once if an
        agent is free."""
        self._queue(queue)
        if not isinstance(bundle, ContextBundle):
            raise HandoffError(f"expected a ContextBundle, got {type(bundle).__name__}", "enqueue")
        if not isinstance(priority, int) or not 0 <= priority <= MAX_PRIORITY:
            raise HandoffError(f"priority must be an int 0..{MAX_PRIORITY}, got {priority!r}", "enqueue")
        # the customer's value (ivr.history.value, from flows/_value.yaml) is a floor for the flow's priority
        priority = max(priority, min(MAX_PRIORITY, bundle.value_priority))
        if bundle.high_value:
            priority = min(MAX_PRIORITY, priority + self.vip_boost)
        now = self.now()
        t = Ticket(id=uuid.uuid4().hex[:16], queue=queue, priority=priority, call_id=bundle.call_id,
                   enqueued_at=now, queued_at=now, intent=bundle.intent, language=bundle.language,
                   verified=bundle.verified)
        t = await self._io(self.store.add_ticket, t, bundle.to_dict(),
                           self._event("enqueued", ticket=t.id, queue=queue, priority=priority, call_id=bundle.call_id))
        log.info("handoff queued",
                 extra={"call_id": bundle.call_id, "ticket": t.id, "queue": queue, "priority": priority})
        self._notify()
        await self.dispatch()
        return t

    async def transfer_call(self, transfer: Transfer, bundle: ContextBundle) -> Ticket:
        """Enqueue for a dialog ``Transfer(queue, priority, reason, note)``;
        the transfer's reason/note fill the bundle's when it has none."""
        if not bundle.reason and (transfer.reason or transfer.note):
            bundle = dataclasses.replace(bundle, reason=transfer.reason, note=bundle.note or transfer.note)
        return await self.enqueue(bundle, transfer.queue, transfer.priority)

    async def position(self, ticket: Ticket | str) -> int | None:
        """1 = next to be offered; None once the call left the queue."""
        tid = ticket.id if isinstance(ticket, Ticket) else ticket
        return await self._io(self.store.position, tid)

    async def status(self, ticket: Ticket | str) -> Ticket:
        return await self._ticket(ticket)

    async def bundle(self, ticket: Ticket | str) -> ContextBundle:
        t = await self._ticket(ticket)
        d = await self._io(self.store.get_bundle, t.id)
        return ContextBundle.from_dict(d)

    async def estimated_wait(self, queue: str) -> float:
        """Expected wait (s) for a caller joining ``queue`` now (``wait.expected_wait``)."""
        inputs = await self._wait_inputs(queue)
        return expected_wait(inputs, position=inputs.queued + 1)

    async def wait_info(self, ticket: Ticket | str) -> WaitInfo:
        """Position and expected wait for a caller's announcement."""
        t = await self._ticket(ticket)
        pos = await self.position(t)
        inputs = await self._wait_inputs(t.queue)
        return announcement(t, pos, inputs, self.callback_threshold)

    async def _wait_inputs(self, queue: str) -> WaitInputs:
        q = self._queue(queue)
        now = self.now()
        agents, events, waiting = await asyncio.gather(
            self._io(self.store.agents), self._io(self.store.events, now - self.stats_window),
            self._io(self.store.waiting, queue))
        return wait_inputs(q, agents, events, len(waiting), now, self.stats_window)

    async def cancel(self, ticket: Ticket | str, reason: str = "caller_hangup") -> bool:
        """The caller hung up (abandon) or the session gave up. False if the
        call had already reached an agent."""
        t = await self._ticket(ticket)
        now = self.now()
        status = ABANDONED if reason in ("caller_hangup", "abandoned") else CANCELLED
        ev = self._event("abandoned" if status == ABANDONED else "cancelled", ticket=t.id, queue=t.queue,
                         wait=now - t.enqueued_at, reason=reason)
        changes = {"status": status, "ended_at": now, "offered_to": None}
        ok = await self._io(self.store.transition, t.id, {"status": [WAITING]}, changes, None, {}, {}, ev)
        if not ok:
            t = await self._ticket(t.id)   # it may have started ringing meanwhile
            if t.status == OFFERED and t.offered_to:
                # Hung up while ringing at an agent: free the agent too.
                ok = await self._io(self.store.transition, t.id, {"status": [OFFERED], "offered_to": [t.offered_to]},
                                    changes, t.offered_to, {"status": [AGENT_OFFERED], "ticket": [t.id]},
                                    {"status": AVAILABLE, "since": now, "ticket": None}, ev)
        if ok:
            self._notify()
            await self.dispatch()
        return ok

    async def abandon(self, ticket: Ticket | str) -> bool:
        return await self.cancel(ticket, "caller_hangup")

    async def request_callback(self, ticket: Ticket | str, number: str) -> Ticket:
        """The caller would rather be called back: the ticket keeps its place
        in line and, when offered, tells the agent to dial ``number``."""
        digits = "".join(c for c in str(number) if c.isdigit() or c == "+")
        if len(digits.lstrip("+")) < 6:
            raise HandoffError("callback number needs at least 6 digits", "request_callback")
        t = await self._ticket(ticket)
        ok = await self._io(self.store.transition, t.id, {"status": [WAITING]}, {"callback_number": digits},
                            None, {}, {}, self._event("callback_requested", ticket=t.id, queue=t.queue))
        if not ok:
            now_status = (await self._ticket(t.id)).status
            raise StateConflict(f"handoff {t.id} is no longer waiting ({now_status})", "request_callback")
        self._notify()
        return await self._ticket(t.id)

    async def record_call_outcome(self, outcome: str | Mapping[str, Any], call_id: str | None = None) -> None:
        """How every call ended, for bot containment: 'contained' (bot
        finished it), 'transferred', 'abandoned' or 'failed'."""
        if isinstance(outcome, Mapping):
            call_id = outcome.get("call_id", call_id)
            outcome = outcome.get("outcome", "")
        if outcome not in CALL_OUTCOMES:
            raise HandoffError(f"unknown call outcome {outcome!r} (one of {', '.join(CALL_OUTCOMES)})",
                               "record_call_outcome")
        await self._io(self.store.add_event, self._event("call_outcome", outcome=outcome, call_id=call_id))

    # -- agents -----------------------------------------------------------
    async def add_agent(self, agent_id: str, name: str, password: str, tier: str = "T1",
                        skills: tuple[str, ...] | list[str] | None = None, role: str = "agent",
                        languages: tuple[str, ...] = ("zh-TW",)) -> AgentProfile:
        if tier not in TIERS:
            raise HandoffError(f"unknown tier {tier!r} (one of {', '.join(TIERS)})", f"agent {agent_id}")
        skills = tuple(skills) if skills else (tier,)
        for s in skills:
            self._queue(s)
        if len(password) < 8:
            raise HandoffError("password must be at least 8 characters", f"agent {agent_id}")
        hashed = await self._io(hash_password, password)
        prof = AgentProfile(agent_id, name, tier, skills, role, hashed, tuple(languages))
        existing = await self._io(self.store.agent_state, agent_id)
        await self._io(self.store.put_agent, prof, existing or AgentState(agent_id, AWAY, self.now()))
        return prof

    async def remove_agent(self, agent_id: str) -> bool:
        return await self._io(self.store.remove_agent, agent_id)

    async def agents(self) -> list[tuple[AgentProfile, AgentState]]:
        return await self._io(self.store.agents)

    async def agent(self, agent_id: str) -> tuple[AgentProfile, AgentState]:
        prof, st = await asyncio.gather(self._io(self.store.get_agent, agent_id),
                                        self._io(self.store.agent_state, agent_id))
        if prof is None or st is None:
            raise HandoffError(f"no agent {agent_id!r}", self.store.url)
        return prof, st

    async def login(self, agent_id: str, password: str, trusted: bool = False) -> str | None:
        """A session token, or None for a wrong id/password (same answer for both)."""
        prof = await self._io(self.store.get_agent, agent_id)
        if prof is None:
            # No argon2 for ids that do not exist (a flood of made-up ids must cost
            # nothing), but about the same answer time as a wrong password.
            await self.passwords.equalize()
            return None
        # argon2 in its own bounded pool: calls never wait behind a login flood
        # (HasherBusy when full; the desktop answers 503).
        if not await self.passwords.verify(prof.password_hash, password, priority=trusted):
            return None
        token = secrets.token_urlsafe(32)
        await self._io(self.store.put_session, token, agent_id, self.now() + self.session_ttl)
        await self._io(self.store.add_event, self._event("login", agent=agent_id))
        return token

    async def session_agent(self, token: str) -> AgentProfile | None:
        if not token:
            return None
        aid = await self._io(self.store.get_session, token, self.now())
        return await self._io(self.store.get_agent, aid) if aid else None

    async def logout(self, token: str) -> None:
        await self._io(self.store.drop_session, token)

    async def set_status(self, agent_id: str, status: str) -> AgentState:
        """Agent chooses available or away; fails while a call is at the desk."""
        if status not in SETTABLE_STATUSES:
            raise HandoffError(f"status must be one of {', '.join(SETTABLE_STATUSES)}", f"agent {agent_id}")
        now = self.now()
        ok = await self._io(self.store.transition, None, {}, {}, agent_id, {"status": [AVAILABLE, AWAY]},
                            {"status": status, "since": now}, self._event("status", agent=agent_id, status=status))
        if not ok:
            _, st = await self.agent(agent_id)
            if st.status == status:
                return st
            raise StateConflict(f"cannot go {status} while {st.status}", f"agent {agent_id}")
        self._notify()
        if status == AVAILABLE:
            await self.dispatch()
        return (await self.agent(agent_id))[1]

    # -- routing ----------------------------------------------------------
    async def dispatch(self) -> list[Offer]:
        """Offer waiting calls to free agents (see module docstring)."""
        agents = await self._io(self.store.agents)
        free = [(p, s) for p, s in agents if s.status == AVAILABLE]
        if not free:
            return []
        tickets: list[Ticket] = []
        for q in self.queues:
            tickets.extend(await self._io(self.store.waiting, q))
        tickets.sort(key=lambda t: (-t.priority, t.seq))
        offers: list[Offer] = []
        for t in tickets:
            if not free:
                break
            qtier = self.queues[t.queue].tier if t.queue in self.queues else None
            cands = [(p, s) for p, s in free if p.can_serve(t.queue)]
            if not cands:
                continue
            cands.sort(key=lambda ps: (bool(t.language) and t.language not in ps[0].languages,
                                       ps[0].tier != qtier, ps[1].since, ps[0].id))
            for p, s in cands:
                now = self.now()
                ok = await self._io(
                    self.store.transition, t.id, {"status": [WAITING]},
                    {"status": OFFERED, "offered_to": p.id, "offered_at": now},
                    p.id, {"status": [AVAILABLE]}, {"status": AGENT_OFFERED, "since": now, "ticket": t.id},
                    self._event("offered", ticket=t.id, queue=t.queue, agent=p.id, wait=now - t.enqueued_at))
                free.remove((p, s))
                if ok:
                    offers.append(Offer(t.with_(status=OFFERED, offered_to=p.id, offered_at=now), p.id))
                    break
                # Another worker took the agent or the ticket; try the next agent
                # only if the ticket is still waiting.
                cur = await self._io(self.store.get_ticket, t.id)
                if cur is None or cur.status != WAITING:
                    break
        if offers:
            self._notify()
        return offers

    async def tick(self) -> None:
        """Expire unanswered offers, overflow long waits, then dispatch. The
        desktop app runs this every second; tests call it with a fake clock."""
        now = self.now()
        for t in await self._io(self.store.live_tickets):
            if t.status == OFFERED and t.offered_at is not None and now - t.offered_at >= self.offer_timeout:
                await self._io(self.store.transition, t.id, {"status": [OFFERED], "offered_to": [t.offered_to]},
                               {"status": WAITING, "offered_to": None, "offered_at": None},
                               t.offered_to, {"status": [AGENT_OFFERED], "ticket": [t.id]},
                               {"status": AWAY, "since": now, "ticket": None},
                               self._event("offer_timeout", ticket=t.id, queue=t.queue, agent=t.offered_to))
            elif t.status == WAITING:
                q = self.queues.get(t.queue)
                if q and q.overflow_to and now - t.queued_at >= q.overflow_after:
                    await self._io(self.store.transition, t.id, {"status": [WAITING], "queue": [t.queue]},
                                   {"queue": q.overflow_to, "queued_at": now, "overflowed_from": t.queue}, None, {}, {},
                                   self._event("overflow", ticket=t.id, queue=t.queue, to=q.overflow_to))
        self._notify()
        await self.dispatch()

    async def run(self, interval: float = 1.0) -> None:
        """Tick forever (a background task of the desktop app or a worker)."""
        failing = 0
        while True:
            try:
                await self.tick()
                if failing:
                    log.warning("handoff routing resumed after %d failed tick(s)", failing)
                failing = 0
            except Exception as e:  # a store hiccup must not stop routing
                failing += 1
                if failing == 1:  # once per outage, not a traceback a second
                    store_down = (isinstance(e, (OSError, StoreError))
                                  or type(e).__module__.startswith(("redis", "sqlite3")))
                    log.error("handoff routing tick failed (%s: %s); retrying every %g s, counting failures",
                              type(e).__name__, mask_secrets(str(e))[:300], interval, exc_info=not store_down)
            await asyncio.sleep(interval)

    # -- agent actions ----------------------------------------------------
    async def accept(self, agent_id: str, ticket: Ticket | str) -> Ticket:
        t = await self._ticket(ticket)
        now = self.now()
        ok = await self._io(self.store.transition, t.id, {"status": [OFFERED], "offered_to": [agent_id]},
                            {"status": CONNECTED, "accepted_at": now, "agent": agent_id},
                            agent_id, {"status": [AGENT_OFFERED], "ticket": [t.id]},
                            {"status": BUSY, "since": now, "leg_started": now, "leg_queue": t.queue},
                            self._event("accepted", ticket=t.id, queue=t.queue, agent=agent_id,
                                        wait=now - t.enqueued_at, reply=now - (t.offered_at or now)))
        if not ok:
            raise StateConflict(f"handoff {t.id} is not offered to {agent_id} (it is {t.status})", "accept")
        self._notify()
        return await self._ticket(t.id)

    async def decline(self, agent_id: str, ticket: Ticket | str) -> None:
        """Give an offered call back (it keeps its place); the agent goes away
        so the same call is not offered straight back."""
        t = await self._ticket(ticket)
        now = self.now()
        ok = await self._io(self.store.transition, t.id, {"status": [OFFERED], "offered_to": [agent_id]},
                            {"status": WAITING, "offered_to": None, "offered_at": None},
                            agent_id, {"status": [AGENT_OFFERED], "ticket": [t.id]},
                            {"status": AWAY, "since": now, "ticket": None},
                            self._event("declined", ticket=t.id, queue=t.queue, agent=agent_id))
        if not ok:
            raise StateConflict(f"handoff {t.id} is not offered to {agent_id}", "decline")
        self._notify()
        await self.dispatch()

    async def hang_up(self, agent_id: str, ticket: Ticket | str) -> Ticket:
        """The conversation ended; the agent moves to wrap-up."""
        t = await self._ticket(ticket)
        now = self.now()
        ok = await self._io(self.store.transition, t.id, {"status": [CONNECTED], "agent": [agent_id]},
                            {"status": WRAP_UP, "ended_at": now},
                            agent_id, {"status": [BUSY], "ticket": [t.id]}, {"status": AGENT_WRAP_UP, "since": now},
                            self._event("call_ended", ticket=t.id, queue=t.queue, agent=agent_id))
        if not ok:
            raise StateConflict(f"handoff {t.id} is not connected to {agent_id}", "hang_up")
        self._notify()
        return await self._ticket(t.id)

    async def wrap_up(self, agent_id: str, ticket: Ticket | str, disposition: str, note: str = "") -> Ticket:
        """Close the agent's part of the call with a disposition code; the
        agent becomes available. Works from a connected call too (ends it)."""
        if disposition not in DISPOSITIONS:
            raise HandoffError(f"unknown disposition {disposition!r} (one of {', '.join(DISPOSITIONS)})", "wrap_up")
        t = await self._ticket(ticket)
        _prof, st = await self.agent(agent_id)
        if st.ticket != t.id or st.status not in (BUSY, AGENT_WRAP_UP):
            raise StateConflict(f"agent {agent_id} is not on handoff {t.id}", "wrap_up")
        now = self.now()
        handle = now - (st.leg_started or now)
        ev = self._event("wrapped", ticket=t.id, queue=st.leg_queue or t.queue, agent=agent_id, disposition=disposition,
                         handle=handle, note=note[:500])
        a_changes = {"status": AVAILABLE, "since": now, "ticket": None, "leg_started": None, "leg_queue": None}
        a_expect = {"status": [BUSY, AGENT_WRAP_UP], "ticket": [t.id]}
        # After a transfer the ticket already lives on in another queue: only the agent changes.
        if t.status in (CONNECTED, WRAP_UP) and t.agent == agent_id:
            ok = await self._io(self.store.transition, t.id, {"status": [CONNECTED, WRAP_UP], "agent": [agent_id]},
                                {"status": DONE, "ended_at": t.ended_at or now}, agent_id, a_expect, a_changes, ev)
        else:
            ok = await self._io(self.store.transition, None, {}, {}, agent_id, a_expect, a_changes, ev)
        if not ok:
            raise StateConflict(f"handoff {t.id} changed during wrap-up", "wrap_up")
        for listener in self.wrap_up_listeners:
            try:
                await self._io(listener, t.call_id, agent_id, disposition, note)
            except Exception as e:  # a listener must not undo a done wrap-up
                log.warning("wrap-up listener failed: %s", e)
        self._notify()
        await self.dispatch()
        return await self._ticket(t.id)

    async def transfer(self, agent_id: str, ticket: Ticket | str, queue: str, note: str = "") -> Ticket:
        """Send a connected call to another queue with a note for the next
        agent; it keeps its original arrival order there. The agent goes to
        wrap-up."""
        self._queue(queue)
        t = await self._ticket(ticket)
        now = self.now()
        line = f"{agent_id} → {queue}: {note.strip()}" if note.strip() else f"{agent_id} → {queue}"
        notes = (t.notes + "\n" + line) if t.notes else line
        ok = await self._io(self.store.transition, t.id, {"status": [CONNECTED], "agent": [agent_id]},
                            {"status": WAITING, "queue": queue, "queued_at": now, "offered_to": None,
                             "offered_at": None, "agent": None, "accepted_at": None, "transfers": t.transfers + 1,
                             "notes": notes},
                            agent_id, {"status": [BUSY], "ticket": [t.id]}, {"status": AGENT_WRAP_UP, "since": now},
                            self._event("transferred", ticket=t.id, queue=t.queue, to=queue, agent=agent_id))
        if not ok:
            raise StateConflict(f"handoff {t.id} is not connected to {agent_id}", "transfer")
        self._notify()
        await self.dispatch()
        return await self._ticket(t.id)

    async def record_quality(self, ticket: Ticket | str, score: float, by: str = "", kind: str = "quality") -> None:
        """A quality (TQ review) or satisfaction (caller survey) score 1-5 for
        the agent who handled the call."""
        t = await self._ticket(ticket)
        if not 1 <= float(score) <= 5:
            raise HandoffError("score must be between 1 and 5", "record_quality")
        if kind not in ("quality", "satisfaction"):
            raise HandoffError("kind must be quality or satisfaction", "record_quality")
        await self._io(self.store.add_event, self._event(kind, ticket=t.id, queue=t.queue, agent=t.agent,
                                                         score=float(score), by=by))

    # -- views ------------------------------------------------------------
    async def queue_view(self, queues: list[str] | None = None) -> list[dict[str, Any]]:
        """Waiting callers per queue, for the desktop (no personal data)."""
        now = self.now()
        out = []
        for name in queues or list(self.queues):
            waiting = await self._io(self.store.waiting, name)
            rows = []
            for i, t in enumerate(waiting, 1):
                rows.append({"ticket": t.id, "position": i, "waited": round(now - t.enqueued_at, 1),
                             "priority": t.priority, "intent": t.intent, "language": t.language,
                             "verified": t.verified, "callback": t.is_callback, "overflowed_from": t.overflowed_from,
                             "transfers": t.transfers})
            q = self.queues[name]
            out.append({"name": name, "tier": q.tier, "description": q.description, "waiting": rows,
                        "ewt": finite_seconds(await self.estimated_wait(name))})
        return out

    async def stats(self, window: float | None = None) -> dict[str, Any]:
        now = self.now()
        window = window or self.stats_window
        agents, events, live = await asyncio.gather(
            self._io(self.store.agents), self._io(self.store.events, now - window), self._io(self.store.live_tickets))
        return supervisor_stats(events, agents, live, self.queues, now)
