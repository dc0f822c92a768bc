"""The ``ivr`` command. Each subcommand lives in its own module here and
exposes ``register(subparsers)``; this file only wires them together, turns
``IvrError`` into a one-line message with exit code 2, and sets up logging."""
from __future__ import annotations

import argparse
import importlib
import sys

from ivr.dsn import mask_secrets
from ivr.errors import IvrError

# Subcommand modules, in the order ``ivr --help`` lists them.
COMMANDS = [
    "demo", "run", "serve", "chat", "replay", "test", "record",
    "validate", "graph", "nlu", "say", "models", "agents", "history", "campaign", "dial",
]

EPILOG = """examples:
  ivr demo                              a whole demo call on the embedded default (no sound card needed)
  ivr replay call.wav                   event timeline of a recording (speech, DTMF, transcripts)
  ivr run --wav call.wav --flow main    one call from a WAV file through the flows
  ivr chat main                         talk to a flow in text (type #1 for DTMF key 1)
  ivr nlu 我欲查餘額 --lang nan-TW        what the NLU makes of an utterance
  ivr validate flows/                   check every flow, file:line errors
  ivr models list                       installed speech models
  ivr serve --audiosocket 0.0.0.0:9092  take calls from Asterisk, and more
  ivr test audio_fixtures/ --junit r.xml  replay recorded callers against the flows
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ivr",
        description="Offline voice IVR for Taiwanese call centres (Mandarin and Taiwanese).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--log-level", default="warning", type=str.lower,
                        choices=("debug", "info", "warning", "error"),
                        help="how much to log on stderr (default: warning)")
    parser.add_argument("--json-logs", action="store_true", help="structured JSON logs on stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            mod = importlib.import_module(f"ivr.cli.{name}")
        except ModuleNotFoundError as e:
            if e.name == f"ivr.cli.{name}":
                continue  # not built yet
            raise
        mod.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from ivr.log import setup_logging

    setup_logging(args.log_level, args.json_logs)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except IvrError as e:
        print(f"ivr {args.command}: error: {mask_secrets(str(e))}", file=sys.stderr)
        return e.exit_code
    except ModuleNotFoundError as e:
        from ivr.extras import missing_extra_message

        msg = missing_extra_message(e)
        if msg is None:
            raise
        print(f"ivr {args.command}: error: {msg}", file=sys.stderr)
        return 2
    except OSError as e:
        # a path the user gave that cannot be written or read (a full disk, /dev/full,
        # a directory that is a file): their problem to fix, so one line, not a traceback
        where = f"{e.filename}: " if e.filename else ""
        print(f"ivr {args.command}: error: {where}{mask_secrets(e.strerror or str(e))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
