"""``ivr serve``: take calls from Asterisk (AudioSocket) and from Twilio-style
media streams (WebSocket), with Prometheus metrics and, optionally, the agent
desktop. Speech models load before the first call is accepted. SIGTERM drains:
no new calls, calls in flight get --drain seconds, then are queued for an
agent with their context and released.

Asterisk dialplan:  same => n,AudioSocket(${UUID()},127.0.0.1:9092)
                    same => n,Queue(agents)      ; where a transferred call goes next
"""
from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import TextIO


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("serve", help="take calls over AudioSocket / WebSocket, with /metrics",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--audiosocket", metavar="HOST:PORT", help="Asterisk AudioSocket listener, e.g. 0.0.0.0:9092")
    p.add_argument("--websocket", metavar="HOST:PORT", help="Twilio-compatible media stream listener")
    p.add_argument("--metrics", metavar="HOST:PORT", help="Prometheus /metrics and /healthz")
    p.add_argument("--desktop", metavar="HOST:PORT", help="the agent desktop web app")
    p.add_argument("--flows", default=None,
                   help="flows directory (default: ./flows if present, else the shipped flows)")
    p.add_argument("--flow", default="main", help="flow every call starts at (default: main)")
    p.add_argument("--records", default="var/calls.sqlite3", help="call record database (default var/calls.sqlite3)")
    p.add_argument("--keep-audio", action="store_true", help="keep both sides of every call as WAV beside the records")
    p.add_argument("--queue", default=None,
                   help="handoff store URL: sqlite:///path or redis://host:port/db (default: the handoff default; "
                        "'none' = no agent queue)")
    p.add_argument("--engine", default=None, help="one speech engine for every language (default: zh-TW whisper, "
                                                  "nan-TW sphinx)")
    p.add_argument("--no-speculative", action="store_true",
                   help="Whisper decodes only at the end of a turn (default: also speculatively in pauses)")
    # Measured (8 turns decoded at once, 2 cores): 1 worker x 2 threads: p50 1.61 s,
    # last 3.19 s; 2 workers x 1 thread: p50 1.17 s, last 1.48 s, same memory
    # (CTranslate2 workers share the weights and take whichever turn is next).
    p.add_argument("--whisper-workers", type=int, default=min(2, os.cpu_count() or 1),
                   help="turns Whisper decodes side by side (default: 2 on 2+ cores)")
    p.add_argument("--bank", default=None, help="demo bank SQLite file")
    p.add_argument("--drain", type=float, default=30.0, help="seconds calls may run on after SIGTERM (default 30)")
    p.add_argument("--max-call", type=float, default=900.0, help="longest call in seconds (default 900)")
    p.add_argument("--tts", default=None, help="prompt voice: kokoro (default), espeak, pyttsx3")
    p.add_argument("--no-prewarm", action="store_true",
                   help="do not render every static prompt into the TTS cache before taking calls")
    p.add_argument("--config", type=Path, default=None, metavar="FILE",
                   help="TOML settings: [session] timeouts, barge-in, hold, store outages (see ivr/settings.py)")
    p.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY=VALUE",
                   help="override one setting, e.g. --set session.barge_in.enabled=false (repeatable)")
    p.add_argument("--reload-flows", action="store_true",
                   help="follow the flows directory: changed flows apply to new calls, calls in flight keep theirs")
    p.set_defaults(func=run)


def check_ports(args: argparse.Namespace) -> None:
    """Fail in one line before minutes of model loading when a port is taken
    or an address is not ours (the listeners check again when they start)."""
    import socket

    from ivr.errors import IvrError
    from ivr.transports.server import parse_hostport

    for flag in ("audiosocket", "websocket", "metrics", "desktop"):
        value = getattr(args, flag)
        if not value:
            continue
        host, port = parse_hostport(value, f"--{flag}")
        if port == 0:
            continue
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as e:
            raise IvrError(f"cannot resolve {host!r} ({e})", f"--{flag} {value}") from None
        family, kind, proto, _, addr = infos[0]
        with socket.socket(family, kind, proto) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(addr)
            except OSError as e:
                raise IvrError(f"cannot listen on {host}:{port}: {e.strerror or e}", f"--{flag}") from None


async def serve(args: argparse.Namespace, out: TextIO) -> None:
    import time

    from ivr.cli.run import engine_selector
    from ivr.errors import IvrError
    from ivr.session.factory import build_services
    from ivr.settings import session_config
    from ivr.transports import IvrServer

    services = build_services(args.flows, flow=args.flow, records_path=args.records, keep_audio=args.keep_audio,
                              handoff_url=args.queue, bank_path=args.bank, tts=args.tts,
                              engines=engine_selector(args.engine, not args.no_speculative, args.whisper_workers),
                              config=session_config(args.config, args.settings,
                                                    base={"max_call_seconds": args.max_call}),
                              reload_flows=args.reload_flows)
    try:
        recovered = await services.recover()
        if recovered.calls:
            out.write(f"closed {len(recovered.calls)} call record(s) left open by a crash (interrupted); "
                      f"withdrew {len(recovered.withdrawn)} queued ticket(s)\n")
        t0 = time.perf_counter()
        loaded = services.engines.preload()
        out.write(f"speech engines: {', '.join(f'{k} {v}' for k, v in sorted(loaded.items()))} "
                  f"({time.perf_counter() - t0:.1f} s)\n")
        from ivr.prompts import PromptRenderer

        # no caller waits in dead air for a prompt's first synthesis
        if not args.no_prewarm and isinstance(services.prompts, PromptRenderer):
            from ivr.prompts.prewarm import prewarm_flows
            from ivr.session.outage import fallback_text

            t0 = time.perf_counter()
            n, made = await asyncio.to_thread(prewarm_flows, services.prompts, args.flows, (8000,),
                                              (fallback_text(services.config.emergency_number),))
            out.write(f"prompts: {n} static, {made} synthesized ({time.perf_counter() - t0:.1f} s)\n")
        server = IvrServer(services, drain_seconds=args.drain)
        try:
            where = await server.start({"audiosocket": args.audiosocket, "websocket": args.websocket}, args.metrics,
                                       args.desktop)
        except OSError as e:  # taken meanwhile, or an address that is not ours
            raise IvrError(f"cannot listen: {e.strerror or e}", "ivr serve") from None
        for name in ("audiosocket", "websocket", "metrics", "desktop"):
            addr = getattr(where, name)
            if addr:
                out.write(f"{name}: {addr[0]}:{addr[1]}\n")
        out.write("ready\n")
        out.flush()
        await server.serve_forever()
        out.write(f"stopped; calls by outcome: {services.records.counts()}\n")
    finally:
        services.close()


def run(args: argparse.Namespace, stdout: TextIO | None = None) -> int:
    from ivr.errors import IvrError

    if not (args.audiosocket or args.websocket):
        raise IvrError("nothing to listen on: give --audiosocket HOST:PORT and/or --websocket HOST:PORT", "ivr serve")
    check_ports(args)
    asyncio.run(serve(args, stdout or sys.stdout))
    return 0
