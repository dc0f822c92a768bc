"""Supervisor numbers, computed from the store's event log.

Definitions (so they can be checked):
- service level = answered within the queue's N seconds / (answered + abandoned);
- abandonment rate = abandoned / (answered + abandoned);
- average handle time = talk + wrap-up, per wrapped call;
- bot containment = calls the bot finished / all call outcomes recorded;
- per agent: reply speed = mean seconds from offer to accept, reply rate =
  accepted / offered, resolution rate = 'resolved' dispositions / wrapped,
  quality and satisfaction = mean scores (1-5);
- from the call records (``call_kpis``): self-service rate = calls the bot
  finished (``self_served``) / finished calls, per worker and in all.

``cluster_report`` puts both together from the shared records database
(PostgreSQL), so the numbers cover every worker of a cluster."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from ivr.handoff.models import OFFERED, RESOLVED_DISPOSITIONS, WAITING, AgentProfile, AgentState, QueueConfig, Ticket


def _mean(xs: list[float]) -> float | None:
    return round(sum(xs) / len(xs), 2) if xs else None


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def _tally(events: Iterable[Mapping[str, Any]], queues: Mapping[str, QueueConfig]
           ) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]], dict[str, int]]:
    per_q: dict[str, dict[str, Any]] = {q: {"answered": 0, "within": 0, "abandoned": 0, "handles": [], "waits": []}
                                        for q in queues}
    per_a: dict[str, dict[str, Any]] = defaultdict(lambda: {
        "offered": 0, "accepted": 0, "replies": [], "wrapped": 0, "resolved": 0, "handles": [], "quality": [],
        "satisfaction": []})
    outcomes: dict[str, int] = defaultdict(int)
    for e in events:
        kind, q = e["type"], per_q.get(e.get("queue", ""))
        if kind == "accepted" and q is not None:
            q["answered"] += 1
            q["waits"].append(e["wait"])
            q["within"] += e["wait"] <= queues[e["queue"]].service_level_seconds
            a = per_a[e["agent"]]
            a["accepted"] += 1
            a["replies"].append(e["reply"])
        elif kind == "offered":
            per_a[e["agent"]]["offered"] += 1
        elif kind == "abandoned" and q is not None:
            q["abandoned"] += 1
        elif kind == "wrapped":
            if q is not None:
                q["handles"].append(e["handle"])
            a = per_a[e["agent"]]
            a["wrapped"] += 1
            a["resolved"] += e["disposition"] in RESOLVED_DISPOSITIONS
            a["handles"].append(e["handle"])
        elif kind in ("quality", "satisfaction") and e.get("agent"):
            per_a[e["agent"]][kind].append(e["score"])
        elif kind == "call_outcome":
            outcomes[e["outcome"]] += 1
    return per_q, per_a, outcomes


def _agent_numbers(a: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "offered": a["offered"], "accepted": a["accepted"],
        "reply_speed": _mean(a["replies"]), "reply_rate": _ratio(a["accepted"], a["offered"]),
        "handled": a["wrapped"], "resolution_rate": _ratio(a["resolved"], a["wrapped"]),
        "average_handle_time": _mean(a["handles"]),
        "quality": _mean(a["quality"]), "satisfaction": _mean(a["satisfaction"]),
    }


def supervisor_stats(events: Iterable[Mapping[str, Any]], agents: list[tuple[AgentProfile, AgentState]],
                     live: list[Ticket], queues: Mapping[str, QueueConfig], now: float) -> dict[str, Any]:
    per_q, per_a, outcomes = _tally(events, queues)
    queue_rows = []
    for name, q in per_q.items():
        waiting = [t for t in live if t.queue == name and t.status == WAITING]
        offered = [t for t in live if t.queue == name and t.status == OFFERED]
        handled = q["answered"] + q["abandoned"]
        queue_rows.append({
            "name": name, "tier": queues[name].tier, "waiting": len(waiting), "ringing": len(offered),
            "longest_wait": round(max((now - t.enqueued_at for t in waiting), default=0.0), 1),
            "answered": q["answered"], "abandoned": q["abandoned"],
            "service_level": _ratio(q["within"], handled), "service_level_seconds": queues[name].service_level_seconds,
            "abandonment_rate": _ratio(q["abandoned"], handled),
            "average_handle_time": _mean(q["handles"]), "average_speed_of_answer": _mean(q["waits"]),
        })
    agent_rows = []
    for prof, st in agents:
        agent_rows.append({
            "id": prof.id, "name": prof.name, "tier": prof.tier, "skills": list(prof.skills), "role": prof.role,
            "status": st.status, "in_status_for": round(now - st.since, 1), "ticket": st.ticket,
            **_agent_numbers(per_a[prof.id]),
        })
    total_answered = sum(q["answered"] for q in per_q.values())
    total_ab = sum(q["abandoned"] for q in per_q.values())
    all_handles = [h for q in per_q.values() for h in q["handles"]]
    n_outcomes = sum(outcomes.values())
    return {
        "at": now,
        "queues": queue_rows,
        "agents": agent_rows,
        "totals": {
            "answered": total_answered, "abandoned": total_ab,
            "service_level": _ratio(sum(q["within"] for q in per_q.values()), total_answered + total_ab),
            "abandonment_rate": _ratio(total_ab, total_answered + total_ab),
            "average_handle_time": _mean(all_handles),
            "calls": n_outcomes, "outcomes": dict(outcomes),
            "bot_containment_rate": _ratio(outcomes.get("contained", 0), n_outcomes),
        },
    }


class CallRow(Protocol):
    """One call's header as the records stores list it (``CallSummary``)."""

    @property
    def worker(self) -> str: ...
    @property
    def outcome(self) -> str | None: ...
    @property
    def duration(self) -> float | None: ...


def call_kpis(calls: Iterable[CallRow]) -> dict[str, Any]:
    """Calls by outcome, self-service rate and mean call length, in all and per worker.
    Unfinished calls (still running) count in ``calls`` but not in the rates."""

    def block(rows: Sequence[CallRow]) -> dict[str, Any]:
        outcomes: dict[str, int] = defaultdict(int)
        for r in rows:
            outcomes[r.outcome or "unfinished"] += 1
        finished = len(rows) - outcomes.get("unfinished", 0)
        return {"calls": len(rows), "finished": finished, "outcomes": dict(sorted(outcomes.items())),
                "self_service_rate": _ratio(outcomes.get("self_served", 0), finished),
                "average_call_seconds": _mean([r.duration for r in rows if r.outcome and r.duration is not None])}

    rows = list(calls)
    workers = sorted({r.worker for r in rows})
    return {**block(rows), "workers": {w: block([r for r in rows if r.worker == w]) for w in workers}}


class ReportSource(Protocol):
    """What a cluster report reads: a call-records store (SQLite or PostgreSQL)."""

    def calls_between(self, since: float, until: float | None = None) -> Sequence[CallRow]: ...
    def handoff_events(self, since: float = 0.0) -> list[dict[str, Any]]: ...


def cluster_report(records: ReportSource, queues: Mapping[str, QueueConfig], since: float, now: float,
                   agents: list[tuple[AgentProfile, AgentState]] | None = None) -> dict[str, Any]:
    """The supervisor numbers for ``[since, now)`` from the shared records database:
    queues (service level, abandonment, AHT), agents (every agent who took a call,
    or the given ones) and calls (self-service rate), across every worker."""
    events = [e for e in records.handoff_events(since) if e.get("at", now) < now]
    stats = supervisor_stats(events, agents or [], [], queues, now)
    if agents is None:
        _, per_a, _ = _tally(events, queues)
        stats["agents"] = [{"id": aid, **_agent_numbers(a)} for aid, a in sorted(per_a.items())]
    stats["calls"] = call_kpis(records.calls_between(since, now))
    stats["since"] = since
    stats["totals"]["self_service_rate"] = stats["calls"]["self_service_rate"]
    return stats
