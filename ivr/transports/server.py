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
import json
import signal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ivr.dsn import mask_secrets
from ivr.errors import IvrError
from ivr.log import get_logger
from ivr.transports.audiosocket import AudioSocketServer
from ivr.transports.base import CallTable, Transport, TransportFactory
from ivr.transports.media_stream import MediaStreamServer

if TYPE_CHECKING:
    from ivr.handoff.desktop.app import CampaignSource
    from ivr.session.factory import CallServices

log = get_logger(__name__)
HTTP_HEAD_TIMEOUT = 5.0      # seconds for a whole request head on /metrics and /healthz
HEALTH_PROBE_TIMEOUT = 1.0   # a store that does not answer this fast is reported down


async def _respond(writer: asyncio.StreamWriter, status: str, ctype: str, body: bytes) -> None:
    writer.write(f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
                 "Connection: close\r\n\r\n".encode() + body)
    try:
        await asyncio.wait_for(writer.drain(), HTTP_HEAD_TIMEOUT)  # a client that never reads is dropped too
    except TimeoutError:
        writer.transport.abort()


# What ``ivr serve`` listens with: Asterisk AudioSocket (TCP) and Twilio-compatible media streams (WebSocket).
NETWORK_TRANSPORTS: tuple[TransportFactory, ...] = (AudioSocketServer, MediaStreamServer)


def parse_hostport(value: str, what: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise IvrError(f"expected HOST:PORT, got {value!r}", what)
    return host or "0.0.0.0", int(port)


@dataclass
class Listening:
    """Where the server listens: transport name -> address, and the side endpoints."""

    transports: dict[str, tuple[str, int]] = field(default_factory=dict)
    metrics: tuple[str, int] | None = None
    desktop: tuple[str, int] | None = None

    @property
    def audiosocket(self) -> tuple[str, int] | None:
        return self.transports.get(AudioSocketServer.name)

    @property
    def websocket(self) -> tuple[str, int] | None:
        return self.transports.get(MediaStreamServer.name)


class IvrServer:
    """Every transport of ``transports`` (default: AudioSocket and WebSocket)
    shares one call table, so shutdown drains and hands off calls from all."""

    def __init__(self, services: CallServices, *, drain_seconds: float = 30.0,
                 transports: Sequence[TransportFactory] = NETWORK_TRANSPORTS) -> None:
        self.services = services
        self.metrics = services.metrics
        self.calls: CallTable = {}  # call_id -> CallSession, shared by every transport
        self.drain_seconds = drain_seconds
        factory = services.for_transport()
        self.transports: dict[str, Transport] = {}
        for make in transports:
            t = make(factory, services.clock, self.metrics, self.calls)
            if t.name in self.transports:
                raise IvrError(f"two transports named {t.name!r}", "IvrServer")
            self.transports[t.name] = t
        self._http: asyncio.base_events.Server | None = None
        self._desktop: Any = None
        self._desktop_task: asyncio.Task[Any] | None = None
        self._stop = asyncio.Event()
        self.listening = Listening()

    async def start(self, listen: Mapping[str, str | None], metrics: str | None = None,
                    desktop: str | None = None, campaigns: CampaignSource | None = None) -> Listening:
        """``listen``: transport name -> HOST:PORT (None or empty: that transport stays off).
        ``campaigns``: the rows of the desktop's campaign panel, from whoever keeps them
        (the command line wires in the outbound state; transports know no campaigns)."""
        unknown = sorted(set(listen) - set(self.transports))
        if unknown:
            raise IvrError(f"no transport named {', '.join(unknown)} (have: {', '.join(self.transports)})", "ivr serve")
        for name, address in listen.items():
            if address:
                host, port = parse_hostport(address, f"--{name}")
                self.listening.transports[name] = await self.transports[name].start(host, port)
        if metrics:
            host, port = parse_hostport(metrics, "--metrics")
            self._http = await asyncio.start_server(self._serve_http, host, port)
            self.listening.metrics = self._http.sockets[0].getsockname()[:2]
        if desktop:
            await self._start_desktop(*parse_hostport(desktop, "--desktop"), campaigns)
        return self.listening

    async def _start_desktop(self, host: str, port: int, campaigns: CampaignSource | None = None) -> None:
        from ivr.handoff import HandoffService, create_app

        if not isinstance(self.services.handoff, HandoffService):
            raise IvrError("the agent desktop needs a handoff queue", "--desktop")
        import uvicorn

        app = create_app(self.services.handoff, campaigns=campaigns)
        self._desktop = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on"))
        self._desktop.install_signal_handlers = lambda: None  # ours handle SIGTERM
        self._desktop_task = asyncio.ensure_future(self._desktop.serve())
        while not self._desktop.started and not self._desktop_task.done():  # noqa: ASYNC110  uvicorn has no started event
            await asyncio.sleep(0.02)
        self.listening.desktop = (host, port)

    async def _serve_http(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """/metrics (Prometheus, prometheus_client's own encoders) and /healthz;
        nothing else. The whole request head must arrive within
        HTTP_HEAD_TIMEOUT and 64 KiB (the reader's limit): a client that dribbles one
        header line every few seconds is cut off, not kept forever."""
        try:
            try:
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), HTTP_HEAD_TIMEOUT)
            except TimeoutError:
                await _respond(writer, "408 Request Timeout", "text/plain", b"request head too slow\n")
                return
            except (asyncio.LimitOverrunError, asyncio.IncompleteReadError):
                await _respond(writer, "400 Bad Request", "text/plain", b"bad request\n")
                return
            lines = head.decode("latin-1").split("\r\n")
            parts = lines[0].split()
            headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)}
            path = parts[1].split("?")[0] if len(parts) > 1 else ""
            if path == "/metrics":
                from prometheus_client.exposition import choose_encoder

                encode, ctype = choose_encoder(headers.get("accept", ""))
                await _respond(writer, "200 OK", ctype, encode(self.metrics.registry))
            elif path == "/healthz":
                body, ok = await self.health()
                await _respond(writer, "200 OK" if ok else "503 Service Unavailable", "application/json",
                               json.dumps(body, ensure_ascii=False).encode())
            else:
                await _respond(writer, "404 Not Found", "text/plain", b"not found\n")
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def health(self) -> tuple[dict[str, Any], bool]:
        """Each store's state: what calls saw (outages with error counts) and a
        live probe of the handoff store, bounded in time."""
        stores: dict[str, dict[str, Any]] = dict(self.metrics.stores.snapshot()) \
            if hasattr(self.metrics, "stores") else {}
        handoff = getattr(self.services, "handoff", None)
        if handoff is not None and hasattr(handoff, "store"):
            probe = asyncio.ensure_future(asyncio.to_thread(handoff.store.get_ticket, "healthz-probe"))
            try:
                await asyncio.wait_for(asyncio.shield(probe), HEALTH_PROBE_TIMEOUT)
                stores.setdefault("handoff", {"ok": True})
            except Exception as e:  # down or hung: report it, never hang the health check
                probe.add_done_callback(lambda f: f.cancelled() or f.exception())
                stores["handoff"] = {**stores.get("handoff", {}), "ok": False,
                                     "probe": mask_secrets(f"{type(e).__name__}: {e}")[:200] or "timed out"}
            stores["handoff"]["url"] = getattr(handoff.store, "url", "")
        ok = all(v.get("ok") for v in stores.values())
        status = "draining" if self._stop.is_set() else "ok" if ok else "degraded"
        return {"status": status, "calls": len(self.calls), "stores": stores}, ok

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
        for transport in self.transports.values():
            transport.close()
        log.info("draining %d call(s) for up to %.0f s", len(self.calls), self.drain_seconds)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.drain_seconds
        while self.calls and loop.time() < deadline:  # noqa: ASYNC110  transports empty the shared table as calls end
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
        if self._desktop is not None and self._desktop_task is not None:
            self._desktop.should_exit = True
            await asyncio.gather(self._desktop_task, return_exceptions=True)


async def serve(services: CallServices, listen: Mapping[str, str | None], *, metrics: str | None = None,
                desktop: str | None = None, drain_seconds: float = 30.0) -> None:
    """Run every listener of ``listen`` (transport name -> HOST:PORT) until SIGTERM/SIGINT, then drain."""
    server = IvrServer(services, drain_seconds=drain_seconds)
    await server.start(listen, metrics, desktop)
    await server.serve_forever()
