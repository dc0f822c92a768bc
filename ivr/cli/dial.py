"""``ivr dial SIP-URI --flow NAME``: place one outbound call over SIP and run
a flow on it (the same session, records and handoff as ``ivr serve``).
Prints how it went; exit 0 if the call was answered, 1 if not.

  ivr dial sip:0912345678@pbx.example.com --flow reminder --local 10.0.0.5:5062
  ivr dial sip:0912345678@pbx.example.com --sip-transport tcp   # SIP over TCP (RFC 3261 18.3)
"""
from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TextIO


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("dial", help="place an outbound SIP call that runs a flow",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("uri", metavar="SIP-URI", help="who to call, e.g. sip:0912345678@pbx.example.com:5060")
    p.add_argument("--flow", default="main", help="flow the call runs (default: main)")
    p.add_argument("--flows", default=None, help="flows directory (default: ./flows if present, else the shipped)")
    p.add_argument("--local", default="127.0.0.1:0", metavar="HOST:PORT",
                   help="our SIP address (default 127.0.0.1 and a free port)")
    p.add_argument("--sip-transport", choices=("udp", "tcp"), default="udp",
                   help="SIP over UDP (default) or TCP (Via TCP, Contact ;transport=tcp; one connection per peer)")
    p.add_argument("--media-host", default=None, metavar="ADDR", help="RTP address (default: the --local host)")
    p.add_argument("--from", dest="caller", default="ivr", metavar="USER", help="our user name in From (default ivr)")
    p.add_argument("--answer-timeout", type=float, default=45.0, help="seconds to ring before giving up (default 45)")
    p.add_argument("--no-media", type=float, default=30.0, help="hang up after this long without RTP (default 30)")
    p.add_argument("--records", default="var/calls.sqlite3", help="call record database (default var/calls.sqlite3)")
    p.add_argument("--queue", default=None, help="handoff store URL (default: the handoff default; 'none' = none)")
    p.add_argument("--engine", default=None, help="one speech engine for every language")
    p.add_argument("--bank", default=None, help="demo bank SQLite file")
    p.add_argument("--tts", default=None, help="prompt voice: kokoro (default), espeak, pyttsx3")
    p.set_defaults(func=run)


async def dial(args: argparse.Namespace, out: TextIO) -> int:
    from ivr.cli.run import engine_selector
    from ivr.session.factory import build_services
    from ivr.transports.server import parse_hostport
    from ivr.transports.sip import SipDialer, SipOptions, SipServer
    from ivr.transports.sip.dialer import parse_sip_uri

    parse_sip_uri(args.uri)  # a bad URI fails before models load
    host, port = parse_hostport(args.local, "--local")
    media = args.media_host or (host if host not in ("", "0.0.0.0") else "127.0.0.1")
    services = build_services(args.flows, flow=args.flow, records_path=args.records, handoff_url=args.queue,
                              bank_path=args.bank, tts=args.tts, engines=engine_selector(args.engine, True))
    try:
        services.engines.preload()
        server = SipServer(services.for_transport(), services.clock, services.metrics,
                           options=SipOptions(media_host=media, no_media_seconds=args.no_media, max_calls=1,
                                              transport=args.sip_transport))
        await server.start(host, port)
        try:
            result = await SipDialer(server).dial(args.uri, caller=args.caller, answer_timeout=args.answer_timeout)
        finally:
            await server.stop()
        if result.answered and result.record is not None:
            out.write(f"answered: call {result.call_id} {result.record.outcome} ({result.end})\n")
            return 0
        out.write(f"not answered: {result.end}" + (f" (SIP {result.sip_code})" if result.sip_code else "") + "\n")
        return 1
    finally:
        services.close()


def run(args: argparse.Namespace, stdout: TextIO | None = None) -> int:
    return asyncio.run(dial(args, stdout or sys.stdout))
