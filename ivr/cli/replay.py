"""``ivr replay FILE.wav``: the event timeline of a recording."""
from __future__ import annotations

import argparse
import json
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("replay", help="event timeline of a recording (speech turns, DTMF keys)",
                              description="Print the speech segments and DTMF keys found in a WAV file.")
    p.add_argument("file", help="WAV file: 8/16/44.1/48 kHz, 16-bit PCM, mu-law or A-law, mono or stereo")
    p.add_argument("--end-silence", type=int, default=700, metavar="MS",
                   help="silence that ends a speech turn, in ms (default 700)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # imported here so other subcommands do not pay for numpy/webrtcvad at start-up
    from ivr.audio import analyse_samples, format_timeline, read_wav, timeline_rows

    if args.end_silence < 20:
        print(f"ivr replay: error: --end-silence must be at least 20 ms, not {args.end_silence}", file=sys.stderr)
        return 2
    samples, rate = read_wav(args.file)
    rows = timeline_rows(analyse_samples(samples, rate, args.end_silence))
    duration = len(samples) / rate
    if args.json:
        print(json.dumps({"file": args.file, "sample_rate": rate, "duration": round(duration, 3),
                          "end_silence_ms": args.end_silence, "events": rows}, ensure_ascii=False, indent=2))
    else:
        print(f"{args.file}: {rate} Hz, {duration:.2f} s, end silence {args.end_silence} ms")
        print(format_timeline(rows) if rows else "  (no speech, no DTMF)")
    return 0
