"""``ivr nlu TEXT``: what the NLU makes of an utterance (for flow designers)."""
from __future__ import annotations

import argparse
import json
from typing import Any

from ivr.redact import redact


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("nlu", help="show intent, command and values the NLU finds in an utterance",
                              description="Classify an utterance and extract every slot kind from it.")
    p.add_argument("text", nargs="+", help="the utterance, e.g. 我欲查餘額")
    p.add_argument("--lang", default="zh-TW", choices=["zh-TW", "nan-TW"])
    p.add_argument("--data", help="nlu.yml training data (default: the shipped one)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ivr.nlu import SLOT_KINDS, Nlu

    nlu = Nlu.load(args.data)
    text = " ".join(args.text)
    res = nlu.classify(text, args.lang)
    values: dict[str, bool | int | str] = {}
    for kind in SLOT_KINDS:
        v = nlu.extract(kind, text, args.lang)
        if v is not None and kind != "free_text":
            values[kind] = v if isinstance(v, (bool, int, str)) else str(v)
    out: dict[str, Any] = {
        "text": text, "normalized": nlu.normalize(text), "intent": res.intent,
        "confidence": round(res.confidence, 3),
        "ranking": [(i, round(c, 3)) for i, c in res.ranking[:3]],
        "command": nlu.commands(text, args.lang), "values": values,
    }
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return 0
    # what a designer types may hold a real ID or phone number: print it as the logs would
    print(f"text:       {redact(out['text'])}\nnormalized: {redact(out['normalized'])}")
    print(f"intent:     {out['intent']} ({out['confidence']:.2f})   ranking: "
          + ", ".join(f"{i} {c:.2f}" for i, c in out["ranking"]))
    print(f"command:    {out['command']}")
    for k, v in values.items():
        print(f"{k + ':':<11} {redact(str(v)) if k in ('taiwan_id', 'digits') else v}")
    return 0
