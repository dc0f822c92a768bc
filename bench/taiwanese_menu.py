"""Real Taiwanese speech that names no service, said at the nan-TW main menu.

Each of the 33 real sentences in ../shared/data/taiwanese-real (none of them a
menu choice) is one call through the real session and flows (``ivr test``): key 2
for Taiwanese, then the sentence at the menu. Counted from what the bot played
next: rejected (no-match, then the keys menu), a guess caught by the read-back
(你講的是…，著請揤1), a service routed on a guess (must be 0), an agent.

    python bench/taiwanese_menu.py      # -> bench/results/taiwanese_menu.json
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("IVR_SHARED", ROOT.parent / "shared")).resolve()
OUT = ROOT / "bench" / "results" / "taiwanese_menu.json"
SCENARIO = """name: oog_{id}
description: real Taiwanese sentence {id} at the nan-TW menu
language: nan-TW
caller: "0933555777"
turns:
  - dtmf: "2"
  - audio: {wav}
  - hangup: true
expect: {{outcome: abandoned}}
"""


def verdict(prompts: list[str], outcome: str) -> str:
    if any(".read_back." in p for p in prompts):
        return "read_back"
    if outcome == "handed_off":
        return "agent"
    if any(p.startswith("menu.menu.") and p.endswith("no_match") for p in prompts) or "dialog.use_keys" in prompts:
        return "rejected"
    return "routed"  # anything else: a service entered on a guess


def main() -> int:
    data = SHARED / "data" / "taiwanese-real"
    wavs = sorted(data.glob("*.wav"))
    if not wavs:
        print(f"needs the real Taiwanese recordings in {data}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as d:
        for w in wavs:
            (Path(d) / f"oog_{w.stem}.yaml").write_text(SCENARIO.format(id=w.stem, wav=w), encoding="utf-8")
        js = Path(d) / "run.json"
        subprocess.run([sys.executable, "-m", "ivr", "test", d, "--allow-audio", str(data), "--json", str(js)],
                       cwd=ROOT, capture_output=True, text=True, timeout=1800)
        run = json.loads(js.read_text(encoding="utf-8"))
    rows = []
    for s in run["scenarios"]:
        turn = s["turns"][1] if len(s["turns"]) > 1 else {"prompts": [], "transcript": ""}
        rows.append({"clip": s["name"], "heard": turn.get("transcript", ""), "prompts": turn["prompts"],
                     "verdict": verdict(turn["prompts"], s["outcome"])})
    counts = Counter(r["verdict"] for r in rows)
    result = {"calls": len(rows), "counts": dict(counts), "routed_on_a_guess": counts.get("routed", 0),
              "rows": rows}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k != "rows"}, ensure_ascii=False))
    print(f"-> {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
