"""The transport seam: one way calls come in over the network.

A transport listens on one address; each call it accepts gets a ``CallInfo``,
a caller-audio source and a bot-audio sink, and the ``SessionFactory`` turns
those into the call's session, which the transport runs and registers in the
server's shared ``calls`` table (so a draining server can hand calls off).
``IvrServer`` takes a list of transport factories (the classes themselves:
``AudioSocketServer``, ``MediaStreamServer``) and knows nothing else of them."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from ivr.audio.base import AudioSink, AudioSource
from ivr.clock import Clock

if TYPE_CHECKING:
    from ivr.session.metrics import SessionMetrics
    from ivr.session.session import CallSession


@dataclass
class CallInfo:
    """What a transport knows about a call when it starts."""

    call_id: str
    transport: str
    peer: str = ""
    caller: str = ""
    params: dict[str, str] = field(default_factory=dict)


SessionFactory = Callable[[CallInfo, AudioSource, AudioSink], "CallSession"]
CallTable = dict[str, "CallSession"]  # call id -> running session, shared by every transport of a server


class Transport(Protocol):
    # the listener's name: its ``ivr serve --<name> HOST:PORT`` flag and its key in ``Listening``
    name: str

    async def start(self, host: str, port: int) -> tuple[str, int]:
        """Listen; returns the address bound (port 0 picks a free one)."""
        ...

    def close(self) -> None:
        """Stop taking calls; calls in flight run on (the server drains them)."""
        ...


TransportFactory = Callable[[SessionFactory, Clock, "SessionMetrics | None", CallTable], Transport]
