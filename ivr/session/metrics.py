"""Prometheus metrics for calls, one registry per server object.

A private ``CollectorRegistry`` (never the process-global default) lets
tests and several servers in one process count separately."""
from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

_LATENCY_BUCKETS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 1.2, 1.5, 2.0, 3.0, 5.0)
_RTF_BUCKETS = (0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0)


class SessionMetrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self, registry: CollectorRegistry | None = None, *, worker: str = "") -> None:
        # worker: every sample labelled worker="<id>" (ivr/session/metrics_worker.py), for a cluster
        from ivr.session.metrics_worker import WorkerRegistry

        self.registry = registry or (WorkerRegistry(worker) if worker else CollectorRegistry(auto_describe=True))
        r = self.registry
        self.calls_active = Gauge("ivr_calls_active", "Calls in progress", registry=r)
        self.calls = Counter("ivr_calls", "Calls finished, by outcome", ["outcome"], registry=r)
        self.turn_latency = Histogram(
            "ivr_turn_latency_seconds", "End of caller speech to first reply audio", buckets=_LATENCY_BUCKETS,
            registry=r)
        # the same wait split by stage (ivr.session.latency.STAGES); "ended" says how the turn ended
        self.turn_stage = Histogram(
            "ivr_turn_stage_seconds", "Part of the wait for a reply spent in each stage, per caller turn",
            ["stage"], buckets=_LATENCY_BUCKETS, registry=r)
        self.turn_ends = Counter("ivr_turn_ends", "Caller turns by how they ended (silence, complete, dtmf)",
                                 ["ended"], registry=r)
        self.recognizer_rtf = Histogram(
            "ivr_recognizer_rtf", "Recognizer decode time / audio time, per utterance", ["engine"],
            buckets=_RTF_BUCKETS, registry=r)
        self.handoffs = Counter("ivr_handoffs", "Calls handed to a live-agent queue", ["queue"], registry=r)
        self.barge_ins = Counter("ivr_barge_ins", "Prompts interrupted by the caller", ["by"], registry=r)
        self.errors = Counter("ivr_errors", "Errors, by kind", ["kind"], registry=r)
        self.protocol_errors = Counter(
            "ivr_protocol_errors", "Malformed frames or messages from a peer", ["transport"], registry=r)
        self.store_up = Gauge("ivr_store_up", "1 while a store answers, 0 during an outage", ["store"], registry=r)
        self.store_errors = Counter("ivr_store_errors", "Failed store operations", ["store"], registry=r)
        from ivr.session.outage import StoreHealth

        # every call of this server reports store outages here (/healthz reads it)
        self.stores = StoreHealth()
        self.stores.on_change = self._store_changed

    def _store_changed(self, store: str, up: bool, errors: int) -> None:
        self.store_up.labels(store).set(1 if up else 0)
        if errors:
            self.store_errors.labels(store).inc(errors)

    def observe_turn(self, ended: str, stages: dict[str, float]) -> None:
        """One reply's wait (ivr.session.latency): the total and every stage."""
        self.turn_latency.observe(stages["total"])
        self.turn_ends.labels(ended).inc()
        for stage, seconds in stages.items():
            if stage != "total":
                self.turn_stage.labels(stage).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
