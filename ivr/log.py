"""Structured JSON logs with call ids; every record passes through redaction.

Use ``get_logger(__name__)`` and pass context as ``extra={"call_id": ...}``.
``setup_logging`` is called once by the CLI; libraries never configure logging."""
from __future__ import annotations

import json
import logging
import sys
import time

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
            "msg": redact(record.getMessage()),
        }
        for k, v in record.__dict__.items():
            if k in _IDS:
                out[k] = str(v)
            elif k not in _STD and not k.startswith("_"):
                out[k] = redact_obj(v) if isinstance(v, (str, dict, list, tuple)) else v
        if record.exc_info:
            out["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(out, ensure_ascii=False, default=str)


class RedactingFormatter(logging.Formatter):
    """Human-readable, still redacted (the CLI's default on a terminal)."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at emit time, so a test that swaps
    stderr out (and closes it) does not leave logging writing to a dead stream."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def setup_logging(level: str = "info", json_logs: bool = False, stream=None) -> None:
    handler = logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    handler.setFormatter(JsonFormatter() if json_logs else RedactingFormatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("ivr")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False


def get_logger(name: str) -> logging.Logger:
    return logging.getLogger(name if name.startswith("ivr") else f"ivr.{name}")


def now_ms() -> int:
    return int(time.time() * 1000)
