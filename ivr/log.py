"""Structured JSON logs with call ids; every record passes through redaction.

Use ``get_logger(__name__)`` and pass context as ``extra={"call_id": ...}``.
``setup_logging`` is called once by the CLI; libraries never configure logging."""
from __future__ import annotations

import json
import logging
import sys
import threading
import time
from collections.abc import Callable

from ivr.dsn import mask_secrets
from ivr.redact import redact, redact_obj

_STD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}
# Identifiers we mint ourselves (PBX UUIDs, ticket ids): never personal data,
# and masking their digit runs would make calls impossible to trace.
_IDS = frozenset({"call_id", "ticket", "ticket_id", "stream_sid", "call_sid", "uuid", "agent_id"})


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": redact(mask_secrets(record.getMessage())),
        }
        for k, v in record.__dict__.items():
            if k in _IDS:
                out[k] = str(v)
            elif k not in _STD and not k.startswith("_"):
                out[k] = redact_obj(v) if isinstance(v, (str, dict, list, tuple)) else v
        if record.exc_info:
            out["exc"] = redact(mask_secrets(self.formatException(record.exc_info)))
        return json.dumps(out, ensure_ascii=False, default=str)


class RedactingFormatter(logging.Formatter):
    """Human-readable, still redacted (the CLI's default on a terminal)."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(mask_secrets(super().format(record)))


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at emit time, so a test that swaps
    stderr out (and closes it) does not leave logging writing to a dead stream."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


class RepeatFilter(logging.Filter):
    """Rate limit for repeated warnings and errors: at most ``burst`` records
    with the same logger and message template per ``window`` seconds; the rest
    are dropped and counted, and the next record that gets through says how
    many were dropped. A peer sending garbage or a store that is down then
    costs a few lines per window, not one line (or traceback) per frame."""

    def __init__(self, burst: int = 5, window: float = 10.0, max_keys: int = 2000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.burst, self.window, self.max_keys, self.clock = burst, window, max_keys, clock
        self._seen: dict[tuple[str, int, str], list[float]] = {}  # key -> [window start, passed, dropped]
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        key = (record.name, record.levelno, str(record.msg)[:200])
        now = self.clock()
        with self._lock:
            slot = self._seen.get(key)
            if slot is None or now - slot[0] >= self.window:
                dropped = int(slot[2]) if slot else 0
                if len(self._seen) >= self.max_keys:
                    self._prune(now)
                self._seen[key] = [now, 1, 0]
            elif slot[1] < self.burst:
                slot[1] += 1
                dropped = 0
            else:
                slot[2] += 1
                return False
        if dropped:
            record.msg = f"{record.getMessage()} (+{dropped} more like this in {self.window:g} s, not shown)"
            record.args = ()
        return True

    def _prune(self, now: float) -> None:
        for k in [k for k, v in self._seen.items() if now - v[0] >= self.window]:
            del self._seen[k]
        while len(self._seen) >= self.max_keys:  # all recent: forget the oldest
            del self._seen[min(self._seen, key=lambda k: self._seen[k][0])]


class LimitedLog:
    """Warnings about one source (a socket peer, a store) for as long as it
    lives: ``burst`` lines per ``window`` seconds, the rest counted; ``close()``
    logs one summary line of what was not shown."""

    def __init__(self, logger: logging.Logger, where: str, burst: int = 3, window: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.logger, self.where, self.burst, self.window, self.clock = logger, where, burst, window, clock
        self.total = 0
        self._start = -1e18
        self._shown = 0
        self._hidden = 0
        self.hidden_total = 0

    def warning(self, message: str) -> None:
        self.total += 1
        now = self.clock()
        if now - self._start >= self.window:
            more = f" (+{self._hidden} more not shown)" if self._hidden else ""
            self._start, self._shown, self._hidden = now, 0, 0
        else:
            more = ""
        if self._shown >= self.burst:
            self._hidden += 1
            self.hidden_total += 1
            return
        self._shown += 1
        self.logger.warning("%s: %s%s", self.where, message, more)

    def close(self) -> None:
        if self.hidden_total:
            self.logger.warning("%s: %d problem(s) in all, %d not shown one by one", self.where, self.total,
                                self.hidden_total)
            self.hidden_total = 0


def setup_logging(level: str = "info", json_logs: bool = False, stream=None) -> None:
    handler = logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    handler.setFormatter(JsonFormatter() if json_logs else RedactingFormatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RepeatFilter())
    root = logging.getLogger("ivr")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False


def get_logger(name: str) -> logging.Logger:
    return logging.getLogger(name if name.startswith("ivr") else f"ivr.{name}")


def now_ms() -> int:
    return int(time.time() * 1000)
