"""``python -m ivr.prompts ...`` runs ``ivr say`` before it is wired into the ivr command."""
import argparse
import sys

from ivr.errors import IvrError
from ivr.prompts.cli import register


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ivr.prompts")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["say", *(sys.argv[1:] if argv is None else argv)])
    try:
        return args.func(args)
    except IvrError as exc:
        print(exc, file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
