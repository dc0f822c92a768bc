"""ACD behaviour, run against SQLite and a real Redis (``store_url`` fixture)."""
from __future__ import annotations

import asyncio

import pytest

from ivr.handoff import HandoffError, HandoffService, QueueConfig, StateConflict, Ticket, UnknownTicket, open_store

from .helpers import add_agent, bundle


async def test_enqueue_then_position_in_arrival_order(service):
    tickets = [await service.enqueue(bundle(f"c{i}"), "T1") for i in range(4)]
    assert [await service.position(t) for t in tickets] == [1, 2, 3, 4]
    assert [t.seq for t in tickets] == sorted(t.seq for t in tickets)
    got = await service.bundle(tickets[2])
    assert got.call_id == "c2" and got.transcript[1].text == "網路銀行沒辦法登入"


async def test_priority_and_verified_high_value_first(service, clock):
    plain = await service.enqueue(bundle("plain"), "T1")
    clock.advance(1)
    claimed_vip = await service.enqueue(bundle("claims-vip", customer_tier="vip", verified=False), "T1")
    clock.advance(1)
    vip = await service.enqueue(bundle("vip", customer_tier="vip", verified=True, verified_by="taiwan_id+dob"), "T1")
    clock.advance(1)
    urgent = await service.enqueue(bundle("urgent"), "T1", priority=7)
    # urgent (7) > verified VIP (0 + boost 5) > arrival order; an unverified VIP claim gets nothing.
    assert vip.priority == 5 and claimed_vip.priority == 0
    assert [await service.position(t) for t in (urgent, vip, plain, claimed_vip)] == [1, 2, 3, 4]
    await add_agent(service, "ann")
    _, st = await service.agent("ann")
    assert st.status == "offered" and st.ticket == urgent.id


async def test_routes_by_skill_and_prefers_home_tier(service, clock):
    await add_agent(service, "generalist", tier="T1", skills=["T1"])
    clock.advance(1)
    await add_agent(service, "techie", tier="T2", skills=["T2", "T1"])
    # T2 call: only the techie has the skill, although the generalist idled longer.
    t2 = await service.enqueue(bundle("tech"), "T2")
    assert (await service.status(t2)).offered_to == "techie"
    await service.accept("techie", t2)
    await service.wrap_up("techie", t2, "resolved")
    # T1 call: both may take it; the T1 agent goes first so the specialist stays free.
    clock.advance(100)
    t1 = await service.enqueue(bundle("general"), "T1")
    assert (await service.status(t1)).offered_to == "generalist"
    # A complaint (T3) waits: nobody has the skill.
    t3 = await service.enqueue(bundle("angry", intent="complaint"), "T3")
    assert (await service.status(t3)).status == "waiting"
    assert await service.position(t3) == 1


async def test_longest_idle_agent_gets_the_call(service, clock):
    for name in ("a1", "a2", "a3"):
        await add_agent(service, name)
        clock.advance(10)
    # a2 comes back from a break: its idle time restarts.
    await service.set_status("a1", "away")
    clock.advance(5)
    await service.set_status("a1", "available")
    order = []
    for i in range(3):
        t = await service.enqueue(bundle(f"c{i}"), "T1")
        order.append((await service.status(t)).offered_to)
    assert order == ["a2", "a3", "a1"]


async def test_overflow_after_wait_limit(store, clock):
    queues = {"T1": QueueConfig("T1", "T1"), "T2": QueueConfig("T2", "T2", overflow_after=60, overflow_to="T1")}
    svc = HandoffService(store, queues, now=clock)
    early = await svc.enqueue(bundle("early"), "T1")
    tech = await svc.enqueue(bundle("tech"), "T2")
    clock.advance(59)
    await svc.tick()
    assert (await svc.status(tech)).queue == "T2"
    clock.advance(2)
    await svc.tick()
    moved = await svc.status(tech)
    assert moved.queue == "T1" and moved.overflowed_from == "T2" and moved.status == "waiting"
    late = await svc.enqueue(bundle("late"), "T1")
    # keeps its arrival order: behind the earlier T1 caller, ahead of the later one
    assert [await svc.position(t) for t in (early, tech, late)] == [1, 2, 3]
    await add_agent(svc, "gen", skills=["T1"])
    assert (await svc.status(early)).offered_to == "gen"


async def test_offer_timeout_returns_call_and_sets_agent_away(service, clock):
    await add_agent(service, "slow")
    clock.advance(1)
    await add_agent(service, "quick")
    t = await service.enqueue(bundle("c"), "T1")
    assert (await service.status(t)).offered_to == "slow"
    clock.advance(service.offer_timeout + 1)
    await service.tick()
    assert (await service.agent("slow"))[1].status == "away"
    assert (await service.status(t)).offered_to == "quick"
    with pytest.raises(StateConflict):
        await service.accept("slow", t)
    await service.accept("quick", t)


async def test_accept_hangup_wrapup_and_transfer_with_note(service, clock):
    await add_agent(service, "t1agent", skills=["T1"])
    t = await service.enqueue(bundle("c"), "T1")
    clock.advance(3)
    await service.accept("t1agent", t)
    assert (await service.agent("t1agent"))[1].status == "busy"
    clock.advance(60)
    moved = await service.transfer("t1agent", t, "T3", note="wants a manager")
    assert moved.queue == "T3" and moved.status == "waiting" and "wants a manager" in moved.notes
    assert (await service.agent("t1agent"))[1].status == "wrap_up"
    await service.wrap_up("t1agent", t, "transferred")
    assert (await service.agent("t1agent"))[1].status == "available"
    first_leg = [e for e in service.store.events() if e["type"] == "wrapped"][-1]
    assert first_leg["queue"] == "T1" and first_leg["handle"] == pytest.approx(60)
    await add_agent(service, "lead", tier="T3", skills=["T3"])
    await service.accept("lead", t)
    clock.advance(120)
    await service.hang_up("lead", t)
    assert (await service.agent("lead"))[1].status == "wrap_up"
    clock.advance(30)
    done = await service.wrap_up("lead", t, "resolved", note="refund agreed")
    assert done.status == "done"
    with pytest.raises(HandoffError):
        await service.wrap_up("lead", t, "not-a-code")


async def test_abandon_while_waiting_and_while_ringing(service, clock):
    t = await service.enqueue(bundle("c1"), "T1")
    assert await service.cancel(t)
    assert (await service.status(t)).status == "abandoned"
    assert await service.position(t) is None
    await add_agent(service, "amy")
    t2 = await service.enqueue(bundle("c2"), "T1")
    assert (await service.status(t2)).status == "offered"
    assert await service.abandon(t2)
    assert (await service.agent("amy"))[1].status == "available"
    await service.accept("amy", await service.enqueue(bundle("c3"), "T1"))
    assert not await service.cancel(t2)  # already gone: nothing to do


async def test_callback_keeps_place_and_reaches_agent(service, clock):
    first = await service.enqueue(bundle("c1"), "T1")
    cb = await service.enqueue(bundle("c2"), "T1")
    third = await service.enqueue(bundle("c3"), "T1")
    cb = await service.request_callback(cb, "0912-345-678")
    assert cb.callback_number == "0912345678" and cb.status == "waiting"
    assert [await service.position(t) for t in (first, cb, third)] == [1, 2, 3]
    info = await service.wait_info(cb)
    assert not info.callback_offered  # already asked for one
    with pytest.raises(HandoffError):
        await service.request_callback(third, "12")
    await add_agent(service, "bob")
    await service.accept("bob", first)
    await service.wrap_up("bob", first, "resolved")
    offered = await service.status(cb)
    assert offered.offered_to == "bob" and offered.is_callback
    await service.cancel(third)
    with pytest.raises(StateConflict):
        await service.request_callback(third, "0912345678")


async def test_bad_input_errors_name_the_problem(service):
    with pytest.raises(HandoffError, match="unknown queue 'T9'"):
        await service.enqueue(bundle("c"), "T9")
    with pytest.raises(HandoffError, match="priority"):
        await service.enqueue(bundle("c"), "T1", priority=500)
    with pytest.raises(UnknownTicket):
        await service.position("nope") or await service.status("nope")
    with pytest.raises(HandoffError, match="call outcome"):
        await service.record_call_outcome("teleported")


async def test_two_workers_never_offer_the_same_call(store_url, store, clock):
    """Two services (workers) on one store dispatch concurrently: every
    ticket is offered once, every agent holds at most one offer."""
    prefix = getattr(store, "prefix", None)
    other = open_store(store_url, **({"prefix": prefix} if prefix else {}))
    try:
        w1, w2 = HandoffService(store, now=clock), HandoffService(other, now=clock)
        for i in range(6):
            await add_agent(w1, f"ag{i}")
            clock.advance(1)
        # queue calls straight through the store (no dispatch yet), then let both workers race
        for i in range(12):
            t = Ticket(id=f"tk{i:02d}", queue="T1", priority=0, call_id=f"c{i}", enqueued_at=clock(), queued_at=clock())
            store.add_ticket(t, bundle(f"c{i}").to_dict(), {"type": "enqueued", "at": clock(), "queue": "T1", "ticket": t.id})
        results = await asyncio.gather(*(w.dispatch() for w in (w1, w2, w1, w2)))
        offers = [o for r in results for o in r]
        assert len(offers) == 6
        assert len({o.ticket.id for o in offers}) == 6 and len({o.agent_id for o in offers}) == 6
        states = {p.id: s for p, s in store.agents()}
        for o in offers:
            assert states[o.agent_id].ticket == o.ticket.id
            assert store.get_ticket(o.ticket.id).offered_to == o.agent_id
        # and the first six in line were the ones offered
        assert sorted(o.ticket.id for o in offers) == [f"tk{i:02d}" for i in range(6)]
    finally:
        other.close()


async def test_transfer_frame_fills_reason_and_priority(service):
    from ivr.frames import Transfer

    t = await service.transfer_call(Transfer("T2", priority=2, reason="asr_failed", note="3 no-matches"),
                                    bundle("c", reason=""))
    b = await service.bundle(t)
    assert (t.queue, t.priority, b.reason, b.note) == ("T2", 2, "asr_failed", "3 no-matches")


async def test_abandon_races_with_offer(service, clock):
    """The caller hangs up just as the call starts ringing: the agent is freed."""
    t = await service.enqueue(bundle("c"), "T1")
    await add_agent(service, "ria")              # dispatch offers t to ria
    stale = t                                    # the session still holds the waiting ticket
    assert await service.cancel(stale)
    assert (await service.status(t)).status == "abandoned"
    assert (await service.agent("ria"))[1].status == "available"


async def test_taiwanese_caller_prefers_taiwanese_speaking_agent(service, clock):
    await add_agent(service, "mandarin_only")
    clock.advance(5)
    await add_agent(service, "bilingual", languages=("zh-TW", "nan-TW"))
    nan = await service.enqueue(bundle("nan", language="nan-TW"), "T1")
    assert (await service.status(nan)).offered_to == "bilingual"   # although the other idled longer
    zh = await service.enqueue(bundle("zh"), "T1")
    assert (await service.status(zh)).offered_to == "mandarin_only"
