"""``ivr record``: turn a stored call (record + caller audio) into a scenario file."""
from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "record",
        help="turn a stored call into a replayable scenario",
        description="Cut the caller's turns out of a stored call's audio and write a scenario file whose "
                    "expectations are what the bot did on that call (review them before committing).",
    )
    p.add_argument("call_id", metavar="CALL_ID", help="the call's id in the record database")
    p.add_argument("--db", type=Path, required=True, help="call record database (SQLite) kept with audio")
    p.add_argument("-o", "--out", type=Path, default=Path("audio_fixtures/recorded"),
                   help="scenario file (.yaml) or directory (default: audio_fixtures/recorded)")
    p.add_argument("--name", default=None, help="scenario name (default: from the file name or call id)")
    p.add_argument("--engine", default=None, help="pin the speech engine in the scenario")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ivr.qa import record_to_scenario

    path = record_to_scenario(args.call_id, args.db, args.out, name=args.name, engine=args.engine)
    print(f"wrote {path}; replay it with: ivr test {path}")
    return 0
