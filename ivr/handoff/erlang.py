"""Erlang C: waiting probability and mean wait of an M/M/c queue.

Used for estimated wait time: arrival rate and handle time come from what the
queue observed, agents from who is staffed now."""
from __future__ import annotations

import math


def erlang_c(agents: int, load: float) -> float:
    """Probability an arrival waits, for ``load`` = arrival rate × handle time
    (Erlangs) over ``agents`` servers. 1.0 when the queue is unstable."""
    if agents <= 0 or load >= agents:
        return 1.0
    if load <= 0:
        return 0.0
    # Erlang B by its stable recurrence, then C from B (no big factorials).
    b = 1.0
    for k in range(1, agents + 1):
        b = load * b / (k + load * b)
    rho = load / agents
    return b / (1.0 - rho + rho * b)


def mean_wait(agents: int, arrival_rate: float, handle_time: float) -> float:
    """Average speed of answer (seconds) for M/M/c; ``inf`` if unstable."""
    load = arrival_rate * handle_time
    if agents <= 0 or load >= agents:
        return math.inf
    return erlang_c(agents, load) * handle_time / (agents - load)


def service_level(agents: int, arrival_rate: float, handle_time: float, within: float) -> float:
    """Fraction answered within ``within`` seconds."""
    load = arrival_rate * handle_time
    if agents <= 0 or load >= agents:
        return 0.0
    return 1.0 - erlang_c(agents, load) * math.exp(-(agents - load) * within / handle_time)


def positional_wait(position: int, agents: int, handle_time: float) -> float:
    """Expected wait of the caller at ``position`` (1 = next) when every agent
    is busy: with exponential handle times an agent frees up every
    handle_time/agents seconds on average, and ``position`` of them must."""
    if agents <= 0:
        return math.inf
    return position * handle_time / agents
