"""A discrete-event M/M/c simulation (seeded), to check the Erlang C numbers
and to size staffing. Deterministic for a given seed."""
from __future__ import annotations

import heapq
import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SimResult:
    callers: int
    mean_wait: float
    waited_fraction: float
    service_level: float


def simulate_mmc(agents: int, arrival_rate: float, handle_time: float, callers: int,
                 seed: int = 1, within: float = 20.0, warmup: int = 500) -> SimResult:
    """FIFO queue, ``agents`` servers, Poisson arrivals, exponential handling.
    The first ``warmup`` callers are not counted (queue starts empty)."""
    rng = random.Random(seed)
    free_at = [0.0] * agents          # min-heap of when each agent frees up
    heapq.heapify(free_at)
    t = 0.0
    waits: list[float] = []
    for i in range(callers + warmup):
        t += rng.expovariate(arrival_rate)
        start = max(t, free_at[0])
        heapq.heapreplace(free_at, start + rng.expovariate(1.0 / handle_time))
        w = start - t
        if i >= warmup:
            waits.append(w)
    n = len(waits)
    return SimResult(
        callers=n,
        mean_wait=sum(waits) / n,
        waited_fraction=sum(1 for w in waits if w > 1e-9) / n,
        service_level=sum(1 for w in waits if w <= within) / n,
    )
