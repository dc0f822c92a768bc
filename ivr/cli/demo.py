"""``ivr demo``: a whole call on the embedded default, no sound card needed.

A synthetic caller (the prompt TTS saying 我要查餘額, then in-band DTMF tones
for language choice, Taiwan ID and PIN) rings the real flows through the real
session: VAD, DTMF detection, Whisper, NLU, dialog, the demo bank, prompt
TTS. The call runs on a virtual clock, so it takes the CPU time it needs, not
its length. Prints the timeline and writes the bot's side to a WAV.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from ivr.cli.run import format_timeline, local_services

CALLER_SAYS = "我要查餘額"
PIN = "1234"


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("demo", help="a whole demo call on the embedded default (no sound card needed)",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="demo-call.wav", help="the bot's side of the call (default demo-call.wav)")
    p.add_argument("--flows", default=None,
                   help="flows directory (default: ./flows if present, else the shipped flows)")
    p.add_argument("--engine", default=None, help="speech engine for every language (default: whisper for zh-TW)")
    p.add_argument("--records", default=None, help="call record database (default: a temporary one)")
    p.add_argument("--say", default=CALLER_SAYS, help=f"what the caller says at the menu (default {CALLER_SAYS})")
    p.set_defaults(func=run)


def demo_id_keys() -> str:
    """The first demo-bank customer's Taiwan ID as phone keys (letter = two digits)."""
    from ivr.backends.demo_bank import SEED_CUSTOMERS
    from ivr.dialog.extract import ID_LETTER_CODES

    tid = SEED_CUSTOMERS[0][1]
    return f"{ID_LETTER_CODES[tid[0]]:02d}{tid[1:]}"


def caller_script(prompts: Any, rate: int, session: Callable[[], Any], says: str = CALLER_SAYS) -> list[tuple]:
    """What the demo caller does; ``session()`` is the call, so the caller can
    fall back to keys when the bot did not catch the words (as people do)."""
    from ivr.audio import dtmf_tones

    speech = prompts.render_text(says, "zh-TW", rate)
    keys = demo_id_keys()

    def understood() -> list[tuple]:
        intent = getattr(session().state, "intent", None)
        if intent == "check_balance":
            return []
        back = [("audio", dtmf_tones("#", rate), "key # (main menu), the bot went elsewhere"),
                ("wait_reply", 60.0)] if intent else []
        return [*back, ("audio", dtmf_tones("1", rate), "key 1 (查詢餘額), as the words were not caught"),
                ("wait_reply", 30.0)]

    return [
        ("wait_reply", 30.0), ("audio", dtmf_tones("1", rate), "key 1 (國語)"),
        ("wait_reply", 60.0), ("audio", speech, f"says {says}"),
        ("wait_reply", 60.0), ("react", understood),
        ("audio", dtmf_tones(keys, rate), f"keys Taiwan ID ({len(keys)} keys)"),
        ("wait_reply", 30.0), ("audio", dtmf_tones(PIN, rate), "keys PIN ****"),
        ("wait_reply", 30.0), ("audio", dtmf_tones("2", rate), "key 2 (nothing else)"),
    ]


async def demo_call(args: argparse.Namespace, out: TextIO) -> tuple[Any, Any]:
    from ivr.clock import VirtualClock
    from ivr.transports.local import LocalLine, inline, run_on_virtual_clock

    clock = VirtualClock()
    args.flow, args.caller, args.language, args.bank = "main", "", "zh-TW", None
    services = local_services(args, clock)
    try:
        t0 = time.perf_counter()
        loaded = services.engines.preload()
        out.write(f"speech engines: {', '.join(f'{k} {v}' for k, v in sorted(loaded.items()))} "
                  f"({time.perf_counter() - t0:.1f} s)\n")
        t0 = time.perf_counter()
        call: list[Any] = []
        line = LocalLine(clock, caller_script(services.prompts, 8000, lambda: call[0], args.say), 8000)
        session = services.session(line, line.sink, transport="demo", offload=inline)
        call.append(session)
        record = await run_on_virtual_clock(session, clock)
        out.write(f"call ran in {time.perf_counter() - t0:.1f} s of CPU time\n\n")
        return record, line
    finally:
        services.close()


def run(args: argparse.Namespace, stdout: TextIO | None = None) -> int:
    out = stdout or sys.stdout
    with tempfile.TemporaryDirectory(prefix="ivr-demo-") as tmp:
        args.records = args.records or str(Path(tmp) / "calls.sqlite3")
        args.rate = 8000
        record, line = asyncio.run(demo_call(args, out))
    for row in format_timeline(record, line.caller_marks):
        out.write(row + "\n")
    from ivr.audio import write_wav

    write_wav(args.out, line.bot_audio(), 8000)
    out.write(f"bot audio: {args.out}\n")
    return 0 if record.outcome == "self_served" else 1
