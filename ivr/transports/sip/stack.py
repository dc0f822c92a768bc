"""The SIP stack: sippy's RFC 3261 transaction layer and user agents, run on
sippy's own event loop in one thread, bridged to asyncio.

sippy (PyPI ``sippy``, the Sippy B2BUA's stack) parses and builds every SIP
message, runs the transaction timers (100/200 retransmission until ACK,
CANCEL matching, retransmission absorption) and the dialog states. Its
reactor (``ED2``) is a process-wide singleton that must run in one thread:
``Reactor`` starts it once per process; every touch of a sippy object
happens there (``Reactor.call``), and sippy's callbacks hop back to asyncio
with ``loop.call_soon_threadsafe``.

What reaches the transaction manager is screened first (``screen``): bytes
that are not UTF-8, not a SIP message sippy can parse, or missing the headers
a transaction needs are dropped with one log line naming the problem and the
peer, instead of sippy's multi-line traceback on stdout.
"""
from __future__ import annotations

import atexit
import queue
import socket
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ivr.log import get_logger

if TYPE_CHECKING:
    from ivr.transports.sip.tcp import SipTcp

log = get_logger(__name__)
MAX_MESSAGE = 8191             # sippy reads 8192 bytes a datagram: a message that fills it was cut
REQUIRED = ("via", "from", "to", "call-id", "cseq")


class Reactor:
    """sippy's ED2 loop in a daemon thread (started once, lives with the process).

    ED2 is made when ``sippy.Core.EventDispatcher`` is first imported, and
    its cross-thread wake-up (ElPeriodic, a signal) goes to the thread that
    made it: that must be this one, so ``ensure()`` comes before any sippy
    import (a loop made on the main thread crashes the process at exit)."""

    _lock = threading.Lock()
    _thread: threading.Thread | None = None
    _stopping = False

    @classmethod
    def ensure(cls) -> None:
        with cls._lock:
            if cls._thread is not None and cls._thread.is_alive():
                return
            started = threading.Event()
            cls._thread = threading.Thread(target=cls._run, args=(started,), name="sippy-reactor", daemon=True)
            cls._thread.start()
            started.wait(5.0)
            # stopped before the interpreter's exit joins other threads (the C timer
            # crashes if it is still waiting while they go): threading's own exit hooks
            # run first, newest first
            import concurrent.futures.thread  # noqa: F401  its hook must be older than ours

            threading._register_atexit(cls.stop)  # type: ignore[attr-defined]
            atexit.register(cls.stop)

    @classmethod
    def stop(cls) -> None:
        """End the loop (at exit: its C timer must not be mid-call while the interpreter finalizes)."""
        from sippy.Core.EventDispatcher import ED2  # type: ignore[import-untyped]

        thread = cls._thread
        if thread is not None and thread.is_alive():
            cls._stopping = True
            ED2.endloop = True  # read by the loop every tick (a cross-thread call here crashes at exit)
            thread.join(3.0)
        # ElPeriodic frees its C timer in __del__, which crashes when run by the
        # interpreter's final garbage collection: the process is exiting, let it go.
        if getattr(ED2, "elp", None) is not None:
            ED2.elp._hndl = None

    @staticmethod
    def _run(started: threading.Event) -> None:
        from _thread import get_ident

        # the first import of the dispatcher: ED2 is made here, on this thread
        from sippy.Core.EventDispatcher import ED2

        ED2.my_ident = get_ident()  # sippy's timers check they are armed on the loop's own thread
        started.set()
        while not Reactor._stopping:
            try:
                ED2.loop()
            except Exception as e:  # a bug in one callback must not stop every call's SIP
                log.error("sip reactor: callback failed (%s: %s); loop continues", type(e).__name__, e)

    _relay: queue.SimpleQueue[tuple[Callable[..., Any], tuple[Any, ...]]] = queue.SimpleQueue()
    _relay_thread: threading.Thread | None = None

    @classmethod
    def call(cls, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` on the reactor thread (fire and forget)."""
        cls.ensure()
        if threading.get_ident() == getattr(cls._thread, "ident", None):
            fn(*args)
            return
        with cls._lock:
            if cls._relay_thread is None:
                cls._relay_thread = threading.Thread(target=cls._relay_loop, name="sippy-relay", daemon=True)
                cls._relay_thread.start()
        cls._relay.put((fn, args))

    @classmethod
    def _relay_loop(cls) -> None:
        """ElPeriodic's cross-thread call keeps state per calling thread that
        outlives the thread (a caller thread that exits crashes the loop later):
        every call from outside comes through this one thread, which never exits."""
        from sippy.Core.EventDispatcher import ED2

        while not cls._stopping:
            fn, args = cls._relay.get()
            ED2.callFromThread(_guarded, fn, args)


def _guarded(fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
    try:
        fn(*args)
    except Exception as e:
        log.error("sip: %s failed (%s: %s)", getattr(fn, "__qualname__", fn), type(e).__name__, str(e)[:200])


def screen(data: bytes, limit: int = MAX_MESSAGE) -> str | None:
    """Why sippy should not see ``data`` (one line), or None if it is a SIP
    message it can take. The parsing is sippy's own."""
    return _screen(data, limit)[0]


def _screen(data: bytes, limit: int = MAX_MESSAGE) -> tuple[str | None, Any]:
    """``screen``, and the message sippy parsed (None for a keep-alive or a problem)."""
    Reactor.ensure()
    from sippy.SipRequest import SipRequest  # type: ignore[import-untyped]
    from sippy.SipResponse import SipResponse  # type: ignore[import-untyped]

    if len(data) > limit:
        return f"message of {len(data)}+ bytes exceeds the {limit}-byte limit (cut short)", None
    if data.strip(b"\r\n\x00 ") == b"":
        return None, None  # keep-alive (RFC 5626 CRLF): nothing to do, nothing to log
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        return f"not UTF-8 text (byte {e.start})", None
    sep = "\r\n\r\n" in text or "\n\n" in text
    if not sep:
        return "no blank line after the headers", None
    try:
        msg = SipResponse(text) if text.startswith("SIP/2.0 ") else SipRequest(text)
        for name in REQUIRED:
            if msg.countHFs(name) == 0:
                return f"no {name.title()} header", None
            msg.getHFBody(name)  # parsed now: a broken Via or CSeq is caught here
        if not text.startswith("SIP/2.0 "):
            msg.getTIds()
    except Exception as e:
        first = text.split("\n", 1)[0].strip()[:60]
        return f"unparsable SIP ({type(e).__name__}: {str(e)[:80] or 'bad syntax'}) in {first!r}", None
    return None, msg


def make_transaction_manager(host: str, port: int, on_request: Callable[[Any, Any], Any],
                             on_garbage: Callable[[str, str], None], stream: SipTcp | None = None) -> Any:
    """A sippy ``SipTransactionManager`` bound to ``host:port`` (UDP; or, with
    ``stream``, that TCP transport and no UDP socket) whose input is screened.
    Must be called on the reactor thread."""
    from sippy.Network_server import Remote_address  # type: ignore[import-untyped]
    from sippy.SipConf import SipConf  # type: ignore[import-untyped]
    from sippy.SipTransactionManager import SipTransactionManager  # type: ignore[import-untyped]
    from sippy.Time.MonoTime import MonoTime  # type: ignore[import-untyped]
    from sippy.Udp_server import Udp_server, Udp_server_opts  # type: ignore[import-untyped]

    class OneWorker(Udp_server_opts):
        # one sender thread: messages leave in the order sent (with three, a
        # 180 Ringing can overtake the 200 OK sent right after it)
        nworkers = 1

    def adopt_stream(_config: Any, sopts: Any) -> Any:
        """sippy makes its "UDP server" through this: the TCP transport instead
        (a dry run first, which only checks the port: it is ours already)."""
        assert stream is not None
        if not sopts.flags:
            return _NoServer()
        stream.uopts = sopts
        return stream

    class ScreenedTM(SipTransactionManager):
        closed = False
        model_udp_server = (Udp_server, OneWorker) if stream is None else (adopt_stream, OneWorker)

        def handleIncoming(self, data_in: Any, ra: Any, server: Any, rtime: Any) -> None:
            if self.closed:
                return
            raw = data_in if isinstance(data_in, bytes) else str(data_in).encode("utf-8", "replace")
            address = tuple(getattr(ra, "address", ("?", 0)))[:2]
            peer = "{}:{}".format(*address) if stream is None else "tcp:{}:{}".format(*address)
            problem, msg = _screen(raw, MAX_MESSAGE if stream is None else stream.limits.max_header
                                   + stream.limits.max_body)
            if problem is None and msg is None:
                return
            if problem is not None:
                on_garbage(peer, problem)
                return
            if stream is not None:
                _alias(stream, msg, address)
            try:
                super().handleIncoming(data_in, ra, server, rtime)
            except Exception as e:  # sippy gave up on a message it parsed: the one line, not a traceback
                on_garbage(peer, f"rejected by the SIP stack ({type(e).__name__}: {str(e)[:80]})")

        def newTransaction(self, msg: Any, resp_cb: Any = None, laddress: Any = None, userv: Any = None,
                           cb_ifver: int = 1, compact: bool = False, t: Any = None) -> Any:
            # every request of a TCP server goes over TCP (sippy knows only udp and ws targets)
            if userv is None and stream is not None:
                userv = stream
            t = super().newTransaction(msg, resp_cb, laddress, userv, cb_ifver, compact, t)
            if stream is not None and t.userv is stream and t.teA is not None:
                # a reliable transport: no Timer A/E retransmissions of our requests (RFC 3261
                # 17.1.1.2, 17.1.2.2); sippy arms its one retransmission timer, teA, for every
                # request, and stops it only on a response: disarmed here, on the reactor thread
                # that armed it. Timer B/F (no answer in 32 s: 408) still runs.
                t.teA.cancel()
                t.teA = None
            return t

        def stream_in(self, data: bytes, peer: tuple[str, int]) -> None:
            """A message framed off a TCP connection (reactor thread)."""
            self.handleIncoming(data, Remote_address(peer, "tcp"), stream, MonoTime())

    SipConf.my_uaname = "ivr"
    config: dict[str, Any] = {"_sip_address": host, "_sip_port": port, "_sip_logger": _SipLog()}
    tm = ScreenedTM(config, on_request)
    config["_sip_tm"] = tm
    return tm


def _alias(stream: SipTcp, msg: Any, peer: tuple[str, Any]) -> None:
    """Where sippy will send replies (the Via's sent-by port at the peer's
    address) and later requests (the Contact, when it names the peer's host):
    on the connection this came in on."""
    from sippy.SipRequest import SipRequest

    if not isinstance(msg, SipRequest):
        return
    host, port = str(peer[0]), int(peer[1])
    via_port = msg.getHFBody("via").getTAddr()[1]
    stream.alias((host, int(via_port)), (host, port))
    try:
        if msg.countHFs("contact") > 0 and not msg.getHFBody("contact").asterisk:
            url = msg.getHFBody("contact").getUrl()
            if str(url.host) == host:
                stream.alias((host, int(url.port or 5060)), (host, port))
    except Exception:  # a Contact sippy cannot read: replies still go back on the connection
        pass


class _NoServer:
    """What sippy's dry run of a port gets when the transport is TCP."""

    def shutdown(self) -> None:
        pass


class _SipLog:
    """sippy's message log (every SIP message in and out) at debug level."""

    def write(self, *args: Any, **kwargs: Any) -> None:
        if log.isEnabledFor(10):
            log.debug("%s", "".join(str(a) for a in args)[:2000])


def free_udp_port(host: str) -> int:
    """A UDP port free on ``host`` now (sippy writes its own port into Via and
    Contact, so it must know it before binding)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])
