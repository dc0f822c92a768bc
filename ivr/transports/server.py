"""``ivr serve``: every ingress in one process, plus /metrics and graceful
shutdown.

On SIGTERM/SIGINT the listeners close at once (no new calls), calls in flight
get ``drain_seconds`` to finish; any still running are then queued for an
agent with their context (reason ``shutdown``) and their lines released, so
the PBX can route them on. Nothing said is lost: records are written as the
call goes.
"""
from __future__ import annotations

import asyncio
import signal
from dataclasses import dataclass
from typing import Any

from ivr.errors import IvrError
from ivr.log import get_logger
from ivr.transports.audiosocket import AudioSocketServer
from ivr.transports.media_stream import MediaStreamServer

log = get_logger(__name__)


def parse_hostport(value: str, what: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise IvrError(f"expected HOST:PORT, got {value!r}", what)
    return host or "0.0.0.0", int(port)


@dataclass
class Listening:
    audiosocket: tuple[str, int] | None = None
    websocket: tuple[str, int] | None = None
    metrics: tuple[str, int] | None = None
    desktop: tuple[str, int] | None = None


class IvrServer:
    def __init__(self, services: Any, *, drain_seconds: float = 30.0) -> None:
        self.services = services
        self.metrics = services.metrics
        self.calls: dict[str, Any] = {}  # call_id -> CallSession, shared by both transports
        self.drain_seconds = drain_seconds
        factory = services.for_transport()
        self.audiosocket = AudioSocketServer(factory, services.clock, self.metrics, self.calls)
        self.websocket = MediaStreamServer(factory, services.clock, self.metrics, self.calls)
        self._http: asyncio.base_events.Server | None = None
        self._desktop: Any = None
        self._desktop_task: asyncio.Task[Any] | None = None
        self._stop = asyncio.Event()
        self.listening = Listening()

    async def start(self, audiosocket: str | None = None, websocket: str | None = None, metrics: str | None = None,
                    desktop: str | None = None) -> Listening:
        if audiosocket:
            self.listening.audiosocket = await self.audiosocket.start(*parse_hostport(audiosocket, "--audiosocket"))
        if websocket:
            self.listening.websocket = await self.websocket.start(*parse_hostport(websocket, "--websocket"))
        if metrics:
            host, port = parse_hostport(metrics, "--metrics")
            self._http = await asyncio.start_server(self._serve_http, host, port)
            self.listening.metrics = self._http.sockets[0].getsockname()[:2]
        if desktop:
            await self._start_desktop(*parse_hostport(desktop, "--desktop"))
        return self.listening

    async def _start_desktop(self, host: str, port: int) -> None:
        if self.services.handoff is None:
            raise IvrError("the agent desktop needs a handoff queue", "--desktop")
        import uvicorn

        from ivr.handoff import create_app

        app = create_app(self.services.handoff)
        self._desktop = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on"))
        self._desktop.install_signal_handlers = lambda: None  # ours handle SIGTERM
        self._desktop_task = asyncio.ensure_future(self._desktop.serve())
        while not self._desktop.started and not self._desktop_task.done():
            await asyncio.sleep(0.02)
        self.listening.desktop = (host, port)

    async def _serve_http(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """/metrics (Prometheus text) and /healthz; nothing else."""
        try:
            line = await asyncio.wait_for(reader.readline(), 5.0)
            while (await asyncio.wait_for(reader.readline(), 5.0)) not in (b"\r\n", b"\n", b""):
                pass
            parts = line.decode("latin-1").split()
            path = parts[1] if len(parts) > 1 else ""
            if path.split("?")[0] == "/metrics":
                status, ctype, body = "200 OK", self.metrics.content_type, self.metrics.render()
            elif path == "/healthz":
                body = f'{{"status": "{"draining" if self._stop.is_set() else "ok"}", "calls": {len(self.calls)}}}'.encode()
                status, ctype = "200 OK", "application/json"
            else:
                status, ctype, body = "404 Not Found", "text/plain", b"not found\n"
            writer.write(f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
                         "Connection: close\r\n\r\n".encode() + body)
            await writer.drain()
        except (TimeoutError, ConnectionError, UnicodeDecodeError):
            pass
        finally:
            writer.close()

    def request_stop(self) -> None:
        self._stop.set()

    async def serve_forever(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                loop.add_signal_handler(sig, self.request_stop)
            except (NotImplementedError, RuntimeError):  # not the main thread
                pass
        await self._stop.wait()
        await self.shutdown()

    async def shutdown(self) -> None:
        self._stop.set()
        self.audiosocket.close()
        self.websocket.close()
        log.info("draining %d call(s) for up to %.0f s", len(self.calls), self.drain_seconds)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.drain_seconds
        while self.calls and loop.time() < deadline:
            await asyncio.sleep(0.1)
        for session in list(self.calls.values()):
            try:
                await session.hand_off_now("shutdown")
            except Exception as e:
                log.error("could not hand off call %s at shutdown: %s", session.call_id, e)
            session.end("shutdown")
        for _ in range(50):
            if not self.calls:
                break
            await asyncio.sleep(0.1)
        if self._http is not None:
            self._http.close()
        if self._desktop is not None:
            self._desktop.should_exit = True
            await asyncio.gather(self._desktop_task, return_exceptions=True)


async def serve(services: Any, *, audiosocket: str | None = None, websocket: str | None = None,
                metrics: str | None = None, desktop: str | None = None, drain_seconds: float = 30.0) -> None:
    """Run every configured listener until SIGTERM/SIGINT, then drain."""
    server = IvrServer(services, drain_seconds=drain_seconds)
    await server.start(audiosocket, websocket, metrics, desktop)
    await server.serve_forever()
