"""SIP over TCP (RFC 3261 section 18.3) for sippy, which carries SIP over UDP
and WSS only.

What is ours is the stream, not the SIP: ``StreamFramer`` cuts a TCP byte
stream into messages (the header ends at the first blank line; the body is
Content-Length bytes, a header every message must carry on a stream; CRLFs
between messages are keep-alives, a double CRLF is answered with one, RFC
5626 section 3.5.1), and each message is then parsed by sippy's own parser,
in the transaction manager, exactly as a UDP datagram is. ``SipTcp`` is the
transport object sippy's ``SipTransactionManager`` sends through (the
``send_to(data, address)`` / ``getSIPaddr()`` interface of its UDP server):
it maps a peer's address to the connection the peer's messages came on, so
responses go back on the connection the request came in on, and opens a
connection to a peer that has none (a BYE of ours to a caller who hung up the
connection, an outbound INVITE). Via then says ``SIP/2.0/TCP`` and the
Contact ``;transport=tcp``.

Hostile input is bounded: a header longer than ``max_header``, a body
longer than ``max_body``, a missing or contradictory Content-Length, more
than ``max_connections`` peers, a message not complete ``message_seconds``
after its first byte (slowloris) -- each is one log line naming the peer and
the problem, and that connection is closed; the others keep going.

The sockets live on the server's asyncio loop; sippy calls ``send_to`` on its
reactor thread, which hops to the loop; messages go to sippy through
``Reactor.call``."""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ivr.log import get_logger

log = get_logger(__name__)
PING, PONG = b"\r\n\r\n", b"\r\n"


@dataclass
class TcpLimits:
    max_header: int = 16384          # bytes up to and including the blank line
    max_body: int = 65536            # Content-Length
    max_connections: int = 512       # peers connected at once
    message_seconds: float = 10.0    # a message must be complete this long after its first byte
    idle_seconds: float = 900.0      # a connection with nothing at all for this long is closed
    connect_seconds: float = 5.0     # opening a connection to a peer (a request of ours)


class FramingError(ValueError):
    """The stream cannot be cut into messages: the connection must close."""


def content_length(header: bytes) -> int:
    """The Content-Length (or compact ``l``) of a message's header section.
    Framing only: the header is read again, whole, by sippy."""
    values: set[str] = set()
    for line in header.split(b"\r\n")[1:]:
        if line[:1] in (b" ", b"\t"):
            continue  # a folded continuation of the line before
        name, sep, value = line.partition(b":")
        if sep and name.strip().lower() in (b"content-length", b"l"):
            values.add(value.strip().decode("latin-1"))
    if not values:
        raise FramingError("no Content-Length header (mandatory on a stream)")
    if len(values) > 1:
        raise FramingError(f"contradictory Content-Length headers {sorted(values)}")
    text = values.pop()
    if not text.isdigit() or len(text) > 9:
        raise FramingError(f"Content-Length {text[:20]!r} is not a byte count")
    return int(text)


class StreamFramer:
    """Bytes in, whole messages out (``feed``), or ``FramingError``. ``pings``
    counts double-CRLF keep-alives seen (each wants a CRLF back)."""

    def __init__(self, limits: TcpLimits) -> None:
        self.limits = limits
        self._buf = bytearray()
        self._need: int | None = None     # the whole message's length, once its header is in
        self.pings = 0

    @property
    def pending(self) -> bool:
        """Part of a message is buffered."""
        return bool(self._buf)

    def feed(self, data: bytes) -> list[bytes]:
        self._buf += data
        out: list[bytes] = []
        buf = self._buf
        while True:
            if self._need is None:
                i = 0
                while buf.startswith(b"\r\n", i):
                    i += 2
                if i:
                    self.pings += buf.count(PING, 0, i)
                    del buf[:i]
                end = buf.find(b"\r\n\r\n", 0, self.limits.max_header + 1)
                if end < 0:
                    if len(buf) > self.limits.max_header:
                        raise FramingError(f"header section over {self.limits.max_header} bytes")
                    return out
                if end + 4 > self.limits.max_header:
                    raise FramingError(f"header section over {self.limits.max_header} bytes")
                length = content_length(bytes(buf[:end]))
                if length > self.limits.max_body:
                    raise FramingError(f"body of {length} bytes over the {self.limits.max_body}-byte limit")
                self._need = end + 4 + length
            if len(buf) < self._need:
                return out
            out.append(bytes(buf[:self._need]))
            del buf[:self._need]
            self._need = None


Deliver = Callable[[bytes, tuple[str, int]], None]      # a message, from whom (on the loop)
Problem = Callable[[str, str], None]                    # peer, one line


class _Connection(asyncio.Protocol):
    def __init__(self, owner: SipTcp, peer: tuple[str, int] | None = None) -> None:
        self.owner = owner
        self.peer = peer or ("?", 0)
        self.framer = StreamFramer(owner.limits)
        self.transport: asyncio.Transport | None = None
        self._deadline: asyncio.TimerHandle | None = None
        self._idle: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a stream server's transport
        name = transport.get_extra_info("peername")
        self.peer = (str(name[0]), int(name[1])) if name else self.peer
        if not self.owner._admit(self):
            transport.close()  # closed before a byte is read
            return
        self._touch()

    def data_received(self, data: bytes) -> None:
        self._touch()
        try:
            messages = self.framer.feed(data)
        except FramingError as e:
            self.fail(str(e))
            return
        if self.framer.pings:
            self.framer.pings = 0
            self.write(PONG)
        for msg in messages:
            self.owner._deliver(msg, self)
        loop = self.owner.loop
        if self.framer.pending and self._deadline is None:
            self._deadline = loop.call_later(self.owner.limits.message_seconds, self.fail,
                                             f"message not complete within {self.owner.limits.message_seconds:g} s")
        elif not self.framer.pending and self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _touch(self) -> None:
        if self._idle is not None:
            self._idle.cancel()
        self._idle = self.owner.loop.call_later(self.owner.limits.idle_seconds, self.close)

    def write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def fail(self, problem: str) -> None:
        self.owner.on_problem(f"tcp:{self.peer[0]}:{self.peer[1]}", f"{problem}; connection closed")
        self.close()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        for timer in (self._deadline, self._idle):
            if timer is not None:
                timer.cancel()
        self.owner._forget(self)


class SipTcp:
    """The TCP transport handed to sippy's transaction manager (see the module doc)."""

    transport = "tcp"

    def __init__(self, loop: asyncio.AbstractEventLoop, on_message: Deliver, on_problem: Problem,
                 limits: TcpLimits | None = None) -> None:
        self.loop = loop
        self.on_message = on_message
        self.on_problem = on_problem
        self.limits = limits or TcpLimits()
        self.uopts: Any = None           # sippy's server options (its data callback), set when the TM adopts us
        self.laddress: tuple[str, int] = ("0.0.0.0", 0)
        self._server: asyncio.Server | None = None
        self._conns: dict[tuple[str, int], _Connection] = {}
        self._aliases: dict[tuple[str, int], tuple[str, int]] = {}   # Via sent-by / Contact -> a peer connected
        self._opening: dict[tuple[str, int], list[bytes]] = {}        # connections of ours being opened
        self.refused = 0
        self._tasks: set[asyncio.Future[None]] = set()

    async def listen(self, host: str, port: int) -> tuple[str, int]:
        self._server = await self.loop.create_server(lambda: _Connection(self), host, port)
        sock = self._server.sockets[0].getsockname()
        self.laddress = (host, int(sock[1]))
        return self.laddress

    @property
    def connections(self) -> int:
        return len(self._conns)

    # -- the loop -----------------------------------------------------------
    def _admit(self, conn: _Connection) -> bool:
        if len(self._conns) >= self.limits.max_connections:
            self.refused += 1
            self.on_problem(f"tcp:{conn.peer[0]}:{conn.peer[1]}",
                            f"{len(self._conns)} connections open (the limit); connection refused")
            return False
        old = self._conns.get(conn.peer)
        if old is not None and old is not conn:
            old.close()
        self._conns[conn.peer] = conn
        return True

    def _forget(self, conn: _Connection) -> None:
        if self._conns.get(conn.peer) is conn:
            del self._conns[conn.peer]
            for k in [k for k, v in list(self._aliases.items()) if v == conn.peer]:
                self._aliases.pop(k, None)

    def _deliver(self, msg: bytes, conn: _Connection) -> None:
        self.on_message(msg, conn.peer)

    def alias(self, address: tuple[str, int], peer: tuple[str, int]) -> None:
        """Messages for ``address`` (a Via sent-by, a Contact) go on ``peer``'s connection."""
        if address != peer:
            self._aliases[address] = peer

    def _send(self, data: bytes, address: tuple[str, int]) -> None:
        conn = self._conns.get(address) or self._conns.get(self._aliases.get(address, address))
        if conn is not None:
            conn.write(data)
            return
        if address in self._opening:
            self._opening[address].append(data)
            return
        if len(self._conns) + len(self._opening) >= self.limits.max_connections:
            self.on_problem(f"tcp:{address[0]}:{address[1]}", "no connection to send on and none may be opened")
            return
        self._opening[address] = [data]
        task = asyncio.ensure_future(self._open(address))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _open(self, address: tuple[str, int]) -> None:
        try:
            _, conn = await asyncio.wait_for(
                self.loop.create_connection(lambda: _Connection(self, address), *address),
                self.limits.connect_seconds)
        except (OSError, TimeoutError) as e:
            dropped = len(self._opening.pop(address, []))
            self.on_problem(f"tcp:{address[0]}:{address[1]}",
                            f"cannot connect ({getattr(e, 'strerror', None) or type(e).__name__}); "
                            f"{dropped} message(s) not sent")
            return
        for data in self._opening.pop(address, []):
            conn.write(data)

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for conn in list(self._conns.values()):
            conn.close()

    # -- sippy's reactor thread: the Network_server interface ----------------
    def getSIPaddr(self) -> tuple[tuple[str, int], str]:
        return (self.laddress, self.transport)

    def addr2str(self, address: tuple[str, int]) -> str:
        return f"tcp:{address[0]}:{address[1]}"

    def send_to(self, data: bytes | str, address: tuple[str, int], delayed: bool = False) -> None:
        raw = data if isinstance(data, bytes) else data.encode("utf-8")
        host, port = address[0], int(address[1])
        host = host[1:-1] if host.startswith("[") else host
        try:
            self.loop.call_soon_threadsafe(self._send, raw, (host, port))
        except RuntimeError:  # the loop is closed: the process is ending
            pass

    def shutdown(self) -> None:
        try:
            self.loop.call_soon_threadsafe(self.close)
        except RuntimeError:
            pass

    def join(self) -> None:
        pass
