"""The call's logger: every record carries the call id, unmasked.

``ivr.log`` masks every digit run of 6+ in string fields (personal numbers), which
would cut PBX UUIDs apart and make calls ungreppable; a call id is no personal
data, so it travels as an object that is JSON'd with ``str``.
"""
from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import Any

from ivr.log import get_logger

log = get_logger("ivr.session.session")


class CallLog(logging.LoggerAdapter):
    """Every record carries the call id, and keeps its own extra fields too."""

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, MutableMapping[str, Any]]:
        kwargs["extra"] = {**(self.extra or {}), **(kwargs.get("extra") or {})}
        return msg, kwargs


class CallId:
    """A call id in a log record (see the module docstring)."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __str__(self) -> str:
        return self.value


def logging_adapter(call_id: str) -> CallLog:
    return CallLog(log, {"call_id": CallId(call_id)})
