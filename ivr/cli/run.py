"""``ivr run``: one call through the real session and flows.

``--wav FILE``: the caller's side comes from a recording (any rate; resampled
to the line rate), the line stays open with silence after it until the flow
ends the call; the call runs on a virtual clock, as fast as the CPU allows,
and prints its timeline. ``--out`` writes the bot's side as the caller heard
it. ``--mic``: talk to the bot live through the sound card (Ctrl-C hangs up).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("run", help="one call from a WAV file (or the microphone) through the flows",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--wav", metavar="FILE", help="the caller's audio")
    src.add_argument("--mic", action="store_true", help="live call through the microphone and speaker")
    add_call_options(p)
    p.add_argument("--out", metavar="WAV", help="write the bot's side of the call here")
    p.set_defaults(func=run)


def add_call_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--flow", default="main", help="flow to start at (default: main)")
    p.add_argument("--flows", default=None,
                   help="flows directory (default: ./flows if present, else the shipped flows)")
    p.add_argument("--caller", default="", help="caller number (ANI) the flows see")
    p.add_argument("--language", default="zh-TW", choices=["zh-TW", "nan-TW"])
    p.add_argument("--engine", default=None,
                   help="one speech engine for every language (default: zh-TW whisper, nan-TW sphinx)")
    p.add_argument("--rate", type=int, default=8000, help="line sample rate (default 8000, telephone)")
    p.add_argument("--records", default="var/calls.sqlite3", help="call record database (default var/calls.sqlite3)")
    p.add_argument("--bank", default=None, help="demo bank SQLite file")
    p.add_argument("--json", action="store_true", help="print the call record as JSON instead of a timeline")


def engine_selector(name: str | None, live: bool = False, whisper_workers: int = 1) -> Any:
    """``live``: a real-time line (engine options that rely on real pauses).
    ``whisper_workers``: turns Whisper decodes side by side (CTranslate2 workers
    sharing one copy of the weights; the cores are split between them)."""
    import os

    from ivr.session.engines import LIVE_OPTIONS, EngineSelector

    options = {k: dict(v) for k, v in LIVE_OPTIONS.items()} if live else {}
    if whisper_workers > 1:
        threads = max(1, (os.cpu_count() or 2) // whisper_workers)
        options["whisper"] = {**options.get("whisper", {}), "cpu_threads": threads, "workers": whisper_workers}
    if name:
        return EngineSelector(routes={}, fallback=name, options=options)
    return EngineSelector(options=options)


def local_services(args: argparse.Namespace, clock: Any, live: bool = False) -> Any:
    """Services for a call inside this process: no agent queue (a transfer is
    noted in the record and ends the call)."""
    from ivr.session import SessionConfig
    from ivr.session.factory import build_services

    config = SessionConfig(language=args.language, max_call_seconds=600.0)
    return build_services(args.flows, flow=args.flow, records_path=args.records, handoff_url="none",
                          engines=engine_selector(args.engine, live), bank_path=args.bank, config=config, clock=clock)


def format_timeline(record: Any, caller_marks: Sequence[tuple[float, str]] = ()) -> list[str]:
    """One line per thing that happened, in call time."""
    rows: list[tuple[float, str]] = [(t, f"caller  {what}") for t, what in caller_marks if not what.startswith("key ")]
    for e in record.events:
        k = e["kind"]
        if k == "prompt":
            if e.get("skipped"):
                continue
            cut = " (interrupted)" if e.get("interrupted") else " (hung up)" if e.get("cut_off") else ""
            rows.append((e.get("started", e["t"]), f"bot     {e.get('text') or e['key']}  "
                                                   f"[{e['heard']:.1f}/{e['duration']:.1f} s heard{cut}]"))
        elif k == "turn":
            if e.get("no_input"):
                rows.append((e["t"], "caller  (no input)"))
            else:
                said = e.get("text") or ""
                keys = f"keys {e['dtmf']}" if e.get("dtmf") else ""
                rows.append((e["t"], f"heard   {' '.join(x for x in (said, keys) if x)}  -> {e.get('slot')}"))
        elif k == "recognized":
            rows.append((e["t"], f"asr     {e['engine']}: {e['text'] or '(nothing)'}  "
                                 f"({e['decode_s']:.2f} s decode)"))
        elif k == "intent":
            rows.append((e["t"], f"intent  {e['intent']}"))
        elif k == "action":
            ok = "ok" if e.get("ok", True) else f"FAILED {e.get('error')}"
            rows.append((e["t"], f"action  {e['name']} {ok}"))
        elif k == "transfer":
            rows.append((e["t"], f"transfer to {e['queue']} ({e.get('reason')})"))
        elif k == "hold":
            rows.append((e["t"], f"hold    {e['result']}"))
    rows.sort(key=lambda r: r[0])
    from ivr.redact import redact

    out = [f"{t:7.2f}s  {redact(what)}" for t, what in rows]
    out.append(f"outcome: {record.outcome} ({record.end_reason}), {record.duration:.1f} s of call time")
    return out


async def _run_wav(args: argparse.Namespace) -> tuple[Any, Any]:
    from ivr.audio import read_wav, resample
    from ivr.clock import VirtualClock
    from ivr.transports.local import LocalLine, inline, run_on_virtual_clock

    samples, rate = read_wav(args.wav)
    if rate != args.rate:
        samples = resample(samples, rate, args.rate)
    clock = VirtualClock()
    services = local_services(args, clock)
    try:
        line = LocalLine(clock, [("audio", samples, f"({Path(args.wav).name}, {len(samples) / args.rate:.1f} s)")],
                         args.rate)
        session = services.session(line, line.sink, caller=args.caller, transport="wav", offload=inline)
        record = await run_on_virtual_clock(session, clock)
        return record, line
    finally:
        services.close()


async def _run_mic(args: argparse.Namespace) -> tuple[Any, Any]:
    from ivr.audio import MicSource, SpeakerSink
    from ivr.clock import RealClock

    clock = RealClock()
    services = local_services(args, clock, live=True)
    mic = MicSource(args.rate, clock=clock)
    speaker = SpeakerSink(args.rate, clock=clock)
    try:
        session = services.session(mic, speaker, caller=args.caller, transport="mic")
        task = asyncio.ensure_future(session.run())
        try:
            return await asyncio.shield(task), None
        except (KeyboardInterrupt, asyncio.CancelledError):
            mic.close()  # the caller hung up
            return await task, None
    finally:
        mic.close()
        services.close()


def run(args: argparse.Namespace, stdout: TextIO | None = None) -> int:
    out = stdout or sys.stdout
    record, line = asyncio.run(_run_wav(args) if args.wav else _run_mic(args))
    if args.json:
        out.write(json.dumps(record.to_dict(), ensure_ascii=False, indent=2, default=str) + "\n")
    else:
        for row in format_timeline(record, line.caller_marks if line else ()):
            out.write(row + "\n")
    if args.out and line is not None:
        from ivr.audio import write_wav

        write_wav(args.out, line.bot_audio(), args.rate)
        out.write(f"bot audio: {args.out}\n")
    return 0 if record.outcome != "failed" else 1
