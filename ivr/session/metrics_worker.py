"""Every metric of one worker labelled ``worker="<id>"``, so one Prometheus
scraping a cluster tells the workers apart (and sums across them) without
relabelling rules. The label is added when the registry is collected: the
metrics themselves are declared as usual."""
from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import Metric


class WorkerRegistry(CollectorRegistry):
    def __init__(self, worker: str) -> None:
        super().__init__(auto_describe=True)
        self.worker = worker

    def collect(self) -> Iterator[Metric]:
        for family in super().collect():
            labelled = Metric(family.name, family.documentation, family.type, family.unit)
            labelled.samples = [s._replace(labels={"worker": self.worker, **s.labels}) for s in family.samples]
            yield labelled
