"""Estimated wait: Erlang C against a seeded M/M/c simulation, and the
service's estimate against a queue driven through the real ACD."""
from __future__ import annotations

import math
import random

import pytest

from ivr.handoff import HandoffService, erlang_c, mean_wait, service_level, simulate_mmc

from .helpers import add_agent, bundle


def test_erlang_c_known_value():
    # Textbook case: 10 Erlangs on 12 agents -> P(wait) ~ 0.4494
    assert erlang_c(12, 10.0) == pytest.approx(0.4494, abs=1e-3)
    assert erlang_c(3, 3.0) == 1.0 and erlang_c(3, 0.0) == 0.0
    assert math.isinf(mean_wait(2, 1 / 60, 180))


@pytest.mark.parametrize("agents,rate,aht", [(3, 1 / 100, 240), (10, 1 / 30, 240), (4, 1 / 80, 240)])
def test_erlang_c_matches_simulation(agents, rate, aht):
    sim = simulate_mmc(agents, rate, aht, callers=200_000, seed=11)
    assert sim.mean_wait == pytest.approx(mean_wait(agents, rate, aht), rel=0.06)
    assert sim.waited_fraction == pytest.approx(erlang_c(agents, rate * aht), abs=0.015)
    assert sim.service_level == pytest.approx(service_level(agents, rate, aht, 20.0), abs=0.015)


async def test_service_estimate_tracks_a_simulated_queue(store, clock):
    """Drive 3 agents and Poisson callers through the real service on a fake
    clock (agents answer at once, exponential handle times). The service
    must recover arrival rate, handle time and staffing from what it saw, and
    its estimate for a new caller must agree with a seeded simulation of a
    queue with those parameters and, loosely (a few hundred callers are a
    noisy sample), with the waits these callers really had. The ACD must
    also be exactly a first-come-first-served M/M/3: replaying the same
    arrivals and handle times through a plain FCFS model gives the same waits."""
    rng = random.Random(5)
    svc = HandoffService(store, now=clock, stats_window=10 ** 7, offer_timeout=10 ** 6)
    for a in ("a0", "a1", "a2"):
        await add_agent(svc, a)
    aht, rate, n = 200.0, 1 / 100, 300   # 2 Erlangs on 3 agents
    arrivals, t = [], clock()
    for _ in range(n):
        t += rng.expovariate(rate)
        arrivals.append(t)
    ends: dict[str, tuple[float, str]] = {}   # agent -> (end of call, ticket)
    waits: list[float] = []
    handles: list[float] = []
    i = 0
    while i < n or ends:
        next_arrival = arrivals[i] if i < n else math.inf
        next_end = min(ends.values())[0] if ends else math.inf
        if next_end <= next_arrival:
            agent = min(ends, key=lambda k: ends[k][0])
            end, tid = ends.pop(agent)
            clock.t = end
            await svc.wrap_up(agent, tid, "resolved")
        else:
            clock.t = next_arrival
            await svc.enqueue(bundle(f"c{i}"), "T1")
            i += 1
        for p, s in await svc.agents():      # answer every new offer at once
            if s.status == "offered":
                tk = await svc.accept(p.id, s.ticket)
                waits.append(clock() - tk.enqueued_at)
                handles.append(rng.expovariate(1 / aht))
                ends[p.id] = (clock() + handles[-1], tk.id)
    observed = sum(waits) / len(waits)
    est = await svc.estimated_wait("T1")
    info = await svc._wait_inputs("T1")
    print(f"EWT estimate {est:.1f}s, these callers waited {observed:.1f}s on average; inputs {info}")
    assert info.agents == 3 and info.queued == 0
    assert info.aht == pytest.approx(aht, rel=0.15) and info.rate == pytest.approx(rate, rel=0.15)
    assert est == pytest.approx(mean_wait(3, info.rate, info.aht))
    sim = simulate_mmc(3, info.rate, info.aht, callers=200_000, seed=3)
    assert est == pytest.approx(sim.mean_wait, rel=0.08)
    assert observed / 2.5 < est < observed * 2.5
    free = [0.0] * 3
    fcfs = []
    for arrived, handle in zip(arrivals, handles, strict=False):
        start = max(arrived, min(free))
        free[free.index(min(free))] = start + handle
        fcfs.append(start - arrived)
    assert waits == pytest.approx(fcfs, abs=1e-3)  # Redis keeps times to 0.1 ms (14 digits)


async def test_wait_info_for_announcements(service, clock):
    await add_agent(service, "solo")
    first = await service.enqueue(bundle("c0"), "T1")
    await service.accept("solo", first)
    t = [await service.enqueue(bundle(f"c{i}"), "T1") for i in range(1, 4)]
    info = await service.wait_info(t[2])
    assert info.position == 3 and info.agents_staffed == 1
    # nothing observed yet: the queue's default handle time, one agent, 3 ahead incl. itself
    assert info.estimated_wait == pytest.approx(3 * service.queues["T1"].default_handle_time)
    assert info.minutes == math.ceil(info.estimated_wait / 60) and info.callback_offered
    nobody = await service.enqueue(bundle("x"), "T3")
    w = await service.wait_info(nobody)
    assert math.isinf(w.estimated_wait) and w.minutes is None and w.to_dict()["estimated_wait"] is None
