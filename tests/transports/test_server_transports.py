"""IvrServer runs whatever transports it is given (the Transport seam): it
starts those given an address, closes every one on shutdown, and names the
flag of an address it cannot parse."""
from __future__ import annotations

import pytest

from ivr.errors import IvrError
from ivr.transports import IvrServer
from ivr.transports.base import CallTable, SessionFactory
from tests.transports.servers import fake_services


class LoopTransport:
    """A transport that listens nowhere: records what the server asks of it."""

    name = "loop"

    def __init__(self, factory: SessionFactory, clock, metrics, calls: CallTable) -> None:
        self.factory, self.calls = factory, calls
        self.started: list[tuple[str, int]] = []
        self.closed = False

    async def start(self, host: str, port: int) -> tuple[str, int]:
        self.started.append((host, port))
        return host, port or 4242

    def close(self) -> None:
        self.closed = True


async def test_server_runs_the_transports_it_is_given():
    services = fake_services()
    server = IvrServer(services, drain_seconds=0.0, transports=[LoopTransport])
    assert list(server.transports) == ["loop"]
    loop = server.transports["loop"]
    assert isinstance(loop, LoopTransport) and loop.calls is server.calls  # one call table for all
    where = await server.start({"loop": "127.0.0.1:0"})
    assert loop.started == [("127.0.0.1", 0)]
    assert where.transports == {"loop": ("127.0.0.1", 4242)} and where.audiosocket is None
    await server.shutdown()
    assert loop.closed
    services.close()


async def test_server_rejects_an_unknown_transport_or_a_bad_address():
    services = fake_services()
    server = IvrServer(services, transports=[LoopTransport])
    with pytest.raises(IvrError, match="no transport named audiosocket"):
        await server.start({"audiosocket": "127.0.0.1:0"})
    with pytest.raises(IvrError, match="--loop"):
        await server.start({"loop": "nowhere"})
    with pytest.raises(IvrError, match="two transports named 'loop'"):
        IvrServer(services, transports=[LoopTransport, LoopTransport])
    services.close()
