"""Flows that follow their files: a changed directory is reloaded, and every
loaded version is kept so calls in flight finish on the flows they started with."""
from __future__ import annotations

import time
from collections.abc import Callable, Collection
from pathlib import Path

from ivr.dialog.loader import FlowSet, flow_files, load_flows
from ivr.errors import FlowError
from ivr.log import get_logger

log = get_logger(__name__)


class FlowStore:
    def __init__(self, directory: str | Path, backends: Collection[str] | None = None,
                 poll_interval: float = 1.0, now: Callable[[], float] = time.monotonic,
                 keep: int = 20) -> None:
        self.directory = Path(directory)
        self.backends = backends
        self.poll_interval = poll_interval
        self._now = now
        self.keep = keep
        self._versions: dict[str, FlowSet] = {}
        self._signature = self._sign()
        self._current = self._load()
        self._checked = now()
        self.last_error: FlowError | None = None

    def _sign(self) -> tuple:
        try:
            return tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in flow_files(self.directory))
        except OSError:
            return ()

    def _load(self) -> FlowSet:
        fs = load_flows(self.directory, self.backends)
        self._versions[fs.version] = fs
        while len(self._versions) > self.keep:  # oldest first: dicts keep insertion order
            self._versions.pop(next(iter(self._versions)))
        return fs

    def reload(self) -> bool:
        """Load the directory again now; False (and the old flows stay) if it no longer validates."""
        self._signature = self._sign()
        try:
            fs = self._load()
        except FlowError as e:
            self.last_error = e
            log.error("flows not reloaded: %s", e)
            return False
        changed = fs.version != self._current.version
        self._current, self.last_error = fs, None
        if changed:
            log.info("flows reloaded: version %s", fs.version)
        return changed

    def current(self) -> FlowSet:
        t = self._now()
        if t - self._checked >= self.poll_interval:
            self._checked = t
            if self._sign() != self._signature:
                self.reload()
        return self._current

    @property
    def latest(self) -> FlowSet:
        """The newest good flows, without polling the files."""
        return self._current

    def get(self, version: str) -> FlowSet | None:
        return self._versions.get(version)
