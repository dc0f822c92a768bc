"""``ivr serve``: take calls from Asterisk (AudioSocket), from Twilio-style
media streams (WebSocket) and over SIP from a PBX or trunk (--sip), with Prometheus metrics and, optionally, the agent
desktop. Speech models load before the first call is accepted. SIGTERM drains:
no new calls, calls in flight get --drain seconds, then are queued for an
agent with their context and released.

Asterisk dialplan:  same => n,AudioSocket(${UUID()},127.0.0.1:9092)
                    same => n,Queue(agents)      ; where a transferred call goes next
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from ivr.outbound.state import CampaignState
    from ivr.settings import Settings
    from ivr.transports.sip import SipOptions


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("serve", help="take calls over AudioSocket / WebSocket / SIP, with /metrics",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--audiosocket", metavar="HOST:PORT", help="Asterisk AudioSocket listener, e.g. 0.0.0.0:9092")
    p.add_argument("--websocket", metavar="HOST:PORT", help="Twilio-compatible media stream listener")
    p.add_argument("--sip", metavar="HOST:PORT", help="SIP user agent for a PBX, SBC or trunk, e.g. 0.0.0.0:5060")
    p.add_argument("--sip-transport", choices=("udp", "tcp"), default="udp",
                   help="SIP over UDP (default) or TCP (RFC 3261 18.3; Via TCP, Contact ;transport=tcp)")
    p.add_argument("--sip-rtp-sender", choices=("process", "thread"), default="process",
                   help="who paces the bot's RTP: a child process with its own GIL at real-time priority when "
                        "allowed (default), or a thread in this process")
    p.add_argument("--sip-media-host", default=None, metavar="ADDR",
                   help="address RTP binds to and SDP names (default: the --sip host, else 127.0.0.1)")
    p.add_argument("--sip-transfer", default="", metavar="URI",
                   help="REFER target for a transfer to an agent queue, e.g. 'sip:{queue}@pbx.example.com' "
                        "(default: none, the caller holds in the ivr queue)")
    p.add_argument("--sip-max-calls", type=int, default=100, help="SIP calls at once; more get 486 (default 100)")
    p.add_argument("--sip-ring", type=float, default=0.0, help="seconds of 180 Ringing before answering (default 0)")
    p.add_argument("--sip-no-media", type=float, default=30.0,
                   help="hang up after this many seconds without RTP from the caller (default 30)")
    p.add_argument("--sip-register", default=None, metavar="AOR",
                   help="REGISTER this address of record with the PBX/trunk, e.g. sip:ivr@pbx.example.com; digest "
                        "user = --sip-user (default: the AOR's user), password from $IVR_SIP_PASSWORD")
    p.add_argument("--sip-user", default=None, help="digest user name for --sip-register")
    p.add_argument("--metrics", metavar="HOST:PORT", help="Prometheus /metrics and /healthz")
    p.add_argument("--desktop", metavar="HOST:PORT", help="the agent desktop web app")
    p.add_argument("--campaigns", default=None, metavar="PATH",
                   help="outbound campaign state for the desktop's campaign panel (default: $IVR_CAMPAIGN_DB, else "
                        "campaigns.sqlite3 beside the caller history when it exists; 'none')")
    p.add_argument("--flows", default=None,
                   help="flows directory (default: ./flows if present, else the shipped flows)")
    p.add_argument("--flow", default="main", help="flow every call starts at (default: main)")
    p.add_argument("--records", default=None, metavar="URL",
                   help="call records: sqlite:///path (or a path) or postgresql://user@host/db "
                        "(default: stores.records in --config, else var/calls.sqlite3)")
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
    p.add_argument("--splice-prompts", action="store_true",
                   help="templated prompts start from pre-rendered fixed parts while their values are "
                        "synthesized (faster first audio; off by default: Whisper heard spliced prompts worse)")
    p.add_argument("--no-prewarm", action="store_true",
                   help="do not render every static prompt into the TTS cache before taking calls")
    p.add_argument("--config", type=Path, default=None, metavar="FILE",
                   help="TOML settings: [worker] id, [stores] records/handoff URLs, [listen] addresses, [session] "
                        "timeouts, barge-in, hold, store outages (see ivr/settings.py); IVR_<TABLE>_<KEY> overrides")
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
    if getattr(args, "sip", None):
        host, port = parse_hostport(args.sip, "--sip")
        sip_kind = getattr(args, "sip_transport", "udp")
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET,
                           socket.SOCK_STREAM if sip_kind == "tcp" else socket.SOCK_DGRAM) as s:
            if sip_kind == "tcp":
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((host, port))
            except OSError as e:
                raise IvrError(f"cannot listen on {sip_kind} {host}:{port}: {e.strerror or e}", "--sip") from None


def sip_options(args: argparse.Namespace) -> SipOptions:
    from ivr.transports.server import parse_hostport
    from ivr.transports.sip import SipOptions

    host = parse_hostport(args.sip, "--sip")[0]
    media = args.sip_media_host or (host if host not in ("", "0.0.0.0") else "127.0.0.1")
    return SipOptions(media_host=media, ring_seconds=args.sip_ring, no_media_seconds=args.sip_no_media,
                      max_calls=args.sip_max_calls, transfer_uri=args.sip_transfer,
                      transport=getattr(args, "sip_transport", "udp"),
                      rtp_sender=getattr(args, "sip_rtp_sender", "process"))


def load(args: argparse.Namespace) -> Settings:
    """The settings file, IVR_ variables, then the flags, then --set; listeners a
    flag does not name come from the file's [listen] table."""
    import dataclasses

    from ivr.errors import IvrError
    from ivr.settings import load_settings

    flags = [f"stores.{key}={value}" for key, value in (("records", args.records), ("handoff", args.queue)) if value]
    settings = load_settings(args.config, flags + list(args.settings), base={"max_call_seconds": args.max_call})
    for name, value in dataclasses.asdict(settings.listen).items():
        if not hasattr(args, name):
            if value:
                raise IvrError(f"this ivr serve has no --{name} listener", f"listen.{name}")
        elif not getattr(args, name):
            setattr(args, name, value or None)
    return settings


async def serve(args: argparse.Namespace, out: TextIO, settings: Settings | None = None,
                freeze_heap: bool = False) -> None:
    import time

    from ivr.cli.run import engine_selector
    from ivr.errors import IvrError
    from ivr.session.factory import build_services
    from ivr.session.metrics import SessionMetrics
    from ivr.transports import IvrServer

    settings = settings or load(args)
    campaigns: CampaignState | None = None
    services = build_services(args.flows, flow=args.flow, records_path=settings.stores.records,
                              keep_audio=args.keep_audio, handoff_url=settings.stores.handoff or None,
                              history_url=settings.stores.history or None,
                              bank_path=args.bank, tts=args.tts, worker=settings.worker_id,
                              engines=engine_selector(args.engine, not args.no_speculative, args.whisper_workers),
                              config=settings.session, reload_flows=args.reload_flows,
                              metrics=SessionMetrics(worker=settings.worker_id))
    try:
        recovered = await services.recover()
        if recovered.calls:
            out.write(f"closed {len(recovered.calls)} call record(s) left open by a crash (interrupted); "
                      f"withdrew {len(recovered.withdrawn)} queued ticket(s)\n")
        t0 = time.perf_counter()
        loaded = services.engines.preload()
        out.write(f"speech engines: {', '.join(f'{k} {v}' for k, v in sorted(loaded.items()))} "
                  f"({time.perf_counter() - t0:.1f} s)\n")
        warmed = await asyncio.to_thread(services.engines.warm_up)
        if warmed:
            out.write("warmed up: " + ", ".join(f"{k} {v:.2f} s" for k, v in sorted(warmed.items())) + "\n")
        from ivr.prompts import PromptRenderer

        if getattr(args, "splice_prompts", False) and isinstance(services.prompts, PromptRenderer):
            services.prompts.splice = True
        # no caller waits in dead air for a prompt's first synthesis
        if not args.no_prewarm and isinstance(services.prompts, PromptRenderer):
            from ivr.prompts.prewarm import prewarm_flows
            from ivr.session.outage import fallback_text

            t0 = time.perf_counter()
            n, made = await asyncio.to_thread(prewarm_flows, services.prompts, args.flows, (8000,),
                                              (fallback_text(services.config.emergency_number),))
            out.write(f"prompts: {n} static, {made} synthesized ({time.perf_counter() - t0:.1f} s)\n")
        from ivr.transports import NETWORK_TRANSPORTS

        transports = list(NETWORK_TRANSPORTS)
        if args.sip:
            from ivr.transports.sip import sip_transport

            transports.append(sip_transport(sip_options(args)))
        server = IvrServer(services, drain_seconds=args.drain, transports=transports)
        if args.desktop:  # the campaign panel's rows: outbound's state, handed to the desktop as a callable
            from ivr.outbound.state import open_for_desktop

            campaigns = open_for_desktop(getattr(args, "campaigns", None))
        try:
            where = await server.start({"audiosocket": args.audiosocket, "websocket": args.websocket,
                                        **({"sip": args.sip} if args.sip else {})}, args.metrics, args.desktop,
                                       campaigns.overview if campaigns is not None else None)
        except OSError as e:  # taken meanwhile, or an address that is not ours
            raise IvrError(f"cannot listen: {e.strerror or e}", "ivr serve") from None
        registration = None
        if args.sip and args.sip_register:
            from ivr.transports.sip import SipServer
            from ivr.transports.sip.register import Registration

            sip = server.transports["sip"]
            assert isinstance(sip, SipServer)
            user = args.sip_user or args.sip_register.split(":", 1)[-1].split("@", 1)[0]
            registration = Registration(sip, args.sip_register, user=user,
                                        password=os.environ.get("IVR_SIP_PASSWORD"))
            out.write(f"sip register {args.sip_register}: {await registration.start()}\n")
        for name in ("audiosocket", "websocket", "sip", "metrics", "desktop"):
            addr = where.transports.get("sip") if name == "sip" else getattr(where, name)
            if addr:  # the SIP line names its transport: "sip: udp 127.0.0.1:5060"
                kind = f"{getattr(args, 'sip_transport', 'udp')} " if name == "sip" else ""
                out.write(f"{name}: {kind}{addr[0]}:{addr[1]}\n")
        # models, flows and prompts loaded above live as long as the process: out of the collector's
        # sight, a full collection no longer walks them (it paused RTP sending ~100 ms at 128 SIP calls)
        if freeze_heap:  # the process's own server only: a test calling serve() keeps its collector
            gc.collect()
            gc.freeze()
        out.write("ready\n")
        out.flush()
        await server.serve_forever()
        if registration is not None:
            registration.stop()
        out.write(f"stopped; calls by outcome: {services.records.counts()}\n")
    finally:
        if campaigns is not None:
            campaigns.close()
        services.close()


def run(args: argparse.Namespace, stdout: TextIO | None = None) -> int:
    from ivr.errors import IvrError

    settings = load(args)
    if not (args.audiosocket or args.websocket or args.sip):
        raise IvrError("nothing to listen on: give --audiosocket, --websocket and/or --sip HOST:PORT "
                       "(or [listen] in --config)", "ivr serve")
    check_ports(args)
    asyncio.run(serve(args, stdout or sys.stdout, settings, freeze_heap=True))
    return 0
