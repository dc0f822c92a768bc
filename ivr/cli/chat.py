"""``ivr chat FLOW``: talk to the flows in text. ``#1`` presses key 1, an
empty line is silence (no input), ``/state`` shows the dialog state,
``/quit`` leaves. Works with piped stdin, one turn per line."""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from ivr.paths import flows_dir as resolve_flows


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("chat", help="talk to a flow in text (#1 = DTMF key 1)",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("flow", nargs="?", default="main", help="flow id in --flows, or a flow file path (default: main)")
    p.add_argument("--flows", default=None,
                   help="flows directory (default: ./flows if present, else the shipped flows)")
    p.add_argument("--caller", default="0912345678", help="caller number (the demo bank knows 0912345678)")
    p.add_argument("--language", default="zh-TW", choices=["zh-TW", "nan-TW"])
    p.add_argument("--bank", default=None, help="demo bank SQLite file (default: ~/.cache/ivr/demo_bank.sqlite)")
    p.set_defaults(func=run)


def _show(out: TextIO, actions: list[Any], state: Any) -> None:
    from ivr.frames import CallBackend, Hangup, Listen, Say, Transfer

    for a in actions:
        if isinstance(a, Say):
            out.write(f"  bot [{a.language}] {a.text}" + (f"  ({a.audio})" if a.audio else "") + "\n")
        elif isinstance(a, Listen):
            out.write(f"  listen {a.slot}: {a.kind}, keys<= {a.dtmf_max_digits}, silence {a.end_silence_ms} ms\n")
        elif isinstance(a, CallBackend):
            out.write(f"  backend {a.name}({', '.join(a.args)})\n")
        elif isinstance(a, Transfer):
            out.write(f"  TRANSFER queue={a.queue} priority={a.priority} reason={a.reason} {a.note}\n")
        elif isinstance(a, Hangup):
            out.write(f"  HANGUP {a.reason}\n")
    if state is not None:
        turn = state.turns[-1] if state.turns else {}
        what = {k: turn[k] for k in ("intent", "command", "confidence") if k in turn}
        slots = {k: ("****" if k in state.secret_slots else v) for k, v in state.slots.items()}
        from ivr.redact import redact_obj

        out.write(f"  · at {state.flow}/{state.step} lang={state.language} intent={state.intent} "
                  f"verified={state.verify_method if state.verified else 'no'} {what or ''}\n")
        out.write(f"  · slots {json.dumps(redact_obj(slots), ensure_ascii=False)}\n")


def run(args: argparse.Namespace, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    from pathlib import Path

    from ivr.backends import default_registry
    from ivr.dialog import Conversation, Dialog, load_flows
    from ivr.errors import FlowError, IvrError

    inp, out = stdin or sys.stdin, stdout or sys.stdout
    flows_dir, flow_id = resolve_flows(args.flows), args.flow
    p = Path(args.flow)
    if p.suffix in (".yaml", ".yml"):
        from ivr.dialog.loader import parse_file

        parsed = parse_file(p)
        flows_dir, flow_id = p.parent, parsed.flow.flow if parsed.flow else p.stem
    flows = load_flows(flows_dir)
    if flow_id not in flows:
        raise FlowError(f"no flow '{flow_id}' (have: {', '.join(sorted(flows.flows))})", str(flows_dir))
    try:
        from ivr.nlu import Nlu
    except ImportError as e:
        raise IvrError(f"the NLU package is not available ({e})", "ivr.nlu") from None
    nlu = Nlu.load()
    registry = default_registry(flows_dir, args.bank)
    conv = Conversation(Dialog(flows, nlu, start=flow_id), registry, caller=args.caller, language=args.language)
    out.write(f"flow {flow_id} (version {flows.version}); #1 = key 1, empty line = silence, /state, /quit\n")
    _show(out, conv.start(), conv.state)
    interactive = inp.isatty()
    while not conv.ended:
        if interactive:
            out.write("you> ")
            out.flush()
        line = inp.readline()
        if not line:
            break
        line = line.rstrip("\n").strip()
        if line == "/quit":
            break
        if line == "/state":
            out.write(json.dumps(conv.state.shown() if conv.state else None, ensure_ascii=False, indent=2) + "\n")
            continue
        if not interactive:
            out.write(f"you> {line}\n")
        if not line:
            actions = conv.silence()
        elif line.startswith("#"):
            actions = conv.key(line[1:] or "#")
        else:
            actions = conv.say(line)
        _show(out, actions, conv.state)
    out.flush()
    return 0
