"""``ivr graph FLOW``: a flow as a Mermaid flowchart."""
from __future__ import annotations

import argparse

from ivr.paths import flows_dir as resolve_flows


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("graph", help="draw a flow as a Mermaid flowchart")
    p.add_argument("flow", help="flow id (in --flows) or a flow file path")
    p.add_argument("--flows", default=None,
                   help="flows directory (default: ./flows if present, else the shipped flows)")
    p.add_argument("-o", "--output", help="write to this .mmd file instead of stdout")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ivr.dialog import load_flows
    from ivr.dialog.graph import mermaid
    from ivr.errors import FlowError

    flow_id, flows_dir = args.flow, resolve_flows(args.flows)
    p = Path(args.flow)
    if p.suffix in (".yaml", ".yml"):
        if not p.is_file():
            raise FlowError("no such flow file", str(p))
        from ivr.dialog.loader import parse_file

        parsed = parse_file(p)
        flows_dir, flow_id = p.parent, (parsed.flow.flow if parsed.flow else p.stem)
    flows = load_flows(flows_dir)
    if flow_id not in flows:
        raise FlowError(f"no flow '{flow_id}' (have: {', '.join(sorted(flows.flows))})", str(flows_dir))
    text = mermaid(flows, flow_id)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote {args.output}")
    else:
        print(text, end="")
    return 0
