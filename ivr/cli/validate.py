"""``ivr validate flows/``: every problem in the flows as ``file:line: message``."""
from __future__ import annotations

import argparse
import sys

from ivr.paths import flows_dir


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("validate", help="check flows; print file:line errors",
                              description="Validate YAML flows: schema, step references, reachability, "
                                          "prompts per language, slots before use, loops. Exit 1 on problems.")
    p.add_argument("path", nargs="?", default=None,
                   help="flows directory or one flow file (default: ./flows if present, else the shipped flows)")
    p.add_argument("--write-schema", metavar="FILE", nargs="?", const="", default=None,
                   help="write the flow JSON Schema (default: <flows>/schema.json) and exit")
    p.add_argument("--no-backends", action="store_true", help="do not check action names against the backends")
    p.add_argument("--json", action="store_true", help="print {path, ok, problems: [...]} as JSON on stdout")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ivr.dialog import validate_dir, write_schema
    from ivr.errors import FlowError

    path = flows_dir(args.path)
    if args.write_schema is not None:
        folder = path if path.is_dir() else path.parent
        target = Path(args.write_schema) if args.write_schema else folder / "schema.json"
        write_schema(target)
        print(f"wrote {target}")
        return 0
    if not path.exists():
        raise FlowError("no such flows directory or file", str(path))
    backends = None
    if not args.no_backends:
        from ivr.backends import BackendRegistry, load_webhooks
        from ivr.backends.demo_bank import DemoBank
        from ivr.history import ACTIONS as HISTORY_ACTIONS
        from ivr.history import ValueModel
        from ivr.outbound.actions import ACTIONS as OUTBOUND_ACTIONS

        registry = BackendRegistry()
        # names only: the bank itself is not opened to validate
        for name in (*DemoBank.ACTIONS, *HISTORY_ACTIONS, *OUTBOUND_ACTIONS):
            registry.register(name, lambda **_: None)
        ValueModel.for_flows(path)  # a broken _value.yaml is one error line (file:line)
        backends = load_webhooks(registry, path if path.is_dir() else path.parent).names()
    problems = validate_dir(path, backends)
    if args.json:
        import json

        print(json.dumps({"path": str(path), "ok": not problems, "problems": [str(p) for p in problems]},
                         ensure_ascii=False, indent=1))
        return 1 if problems else 0
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} problem(s)", file=sys.stderr)
        return 1
    print(f"{path}: ok")
    return 0
