"""Whole-call task completion for callers the fixtures never heard (issue 11):

    python bench/scenarios_revoiced.py [--voices kokoro@0.85,espeak@1.0] [--conditions clean,telephone,noisy_10]
                                       [-k PATTERN] [--out FILE] [--before FILE] [--reclassify FILE]

Every scenario in audio_fixtures/ whose audio turns all carry an ``expect.reference``
is replayed as a new caller: each reference is re-synthesized in another voice
(bench/understanding_audio.py's voices and user-cache synthesis), heard through a
channel (clean 16 kHz / telephone 8 kHz mu-law / noisy_10 = telephone plus pink noise
at 10 dB), and the scenario rewritten to play it. DTMF turns and the intent, slot,
prompt, command and call expectations stay as they are; expectations on the words of
the old recording (``transcript_contains``, ``cer_below``) are dropped (``reference``
stays, checking nothing, to show what was said). The scenario runs through the QA
runner in-process (ivr.qa.run_scenarios, as ``ivr test`` does). A run completes the
task when it passes; an xfail scenario that fails counts as a failure, one that passes
as a completion. Every failed run gets its first failing turn and a kind.

Two callers are measured. The scripted caller does not adapt: when the bot asks again
after a mishearing, the next scripted answer goes to the wrong question (a floor). The
keys caller is the same caller who, when the bot did not take what they said and its
next question offers keys ("…請按1"), answers with those keys (at most twice a call).
Synthetic voices are not callers; an outside evaluation with real speakers measured
27/47 calls completed."""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import zlib
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from understanding_audio import VOICES, Voices, channel

from ivr.audio import write_wav
from ivr.qa import RunOptions, Scenario, ScenarioResult, Turn, load_scenarios, run_scenarios
from ivr.qa.runner import Resources
from ivr.redact import redact

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "audio_fixtures"
OUT = Path(__file__).resolve().parent / "results" / "scenarios_revoiced.json"
CONDITIONS = ("clean", "telephone", "noisy_10")
# the reference stays (what was said, kept for the report; without cer_below it checks nothing)
WORD_EXPECTS = ("transcript_contains", "cer_below")
# prompt keys that ask the same question again (the bot did not take the answer)
REASK = ("retry", "reprompt", "no_match", "not_understood", "again", "confirm")


def revoicable(sc: Scenario) -> bool:
    audio = [t for t in sc.turns if t.audio is not None]
    return bool(audio) and all(t.expect is not None and t.expect.reference for t in audio)


def revoice(sc: Scenario, voice: str, condition: str, voices: Voices, folder: Path) -> Scenario:
    """The scenario with every audio turn said by ``voice`` through ``condition``."""
    name, speed = voice.split("@")
    turns = []
    for i, t in enumerate(sc.turns):
        if t.audio is None or t.expect is None or not t.expect.reference:
            turns.append(t)
            continue
        text = t.expect.reference
        x = voices(name, float(speed), text)
        pcm, rate = channel(x, 16000, condition, seed=zlib.crc32(text.encode()))
        path = folder / f"{sc.name}.{voice}.{condition}.{i}.wav"
        write_wav(path, np.asarray(pcm, np.int16), rate)
        expect = t.expect.model_copy(update=dict.fromkeys(WORD_EXPECTS))
        turns.append(t.model_copy(update={"audio": str(path), "segment": None, "expect": expect}))
    # clean is heard wideband, the telephone conditions on an 8 kHz line
    return sc.model_copy(update={"turns": turns, "sample_rate": 16000 if condition == "clean" else 8000,
                                 "name": f"{sc.name}.{voice.replace('@', '-')}.{condition}"})


SECRET_SLOTS = ("pin", "new_pin", "otp", "sms_code")  # never written out, even the fixtures' test values


def _turn_rows(r: ScenarioResult) -> list[dict[str, Any]]:
    rows = []
    for t in r.turns:
        exp = r.scenario.turns[t.index].expect if t.index < len(r.scenario.turns) else None
        expected = exp.model_dump(exclude_none=True) if exp else {}
        hidden = set(t.secret_slots) | {k for k in expected.get("slots", {}) if k in SECRET_SLOTS}
        secret = t.secret or bool(hidden)
        failures = list(t.failures)
        for k in hidden & set(expected.get("slots", {})):
            value = str(expected["slots"][k])
            failures = [f.replace(value, "****") for f in failures]
            expected["slots"][k] = "****"
        if secret and "reference" in expected:
            expected["reference"] = "****"
        said = (exp.reference or t.label) if exp is not None and t.kind == "audio" else t.label
        rows.append({"i": t.index + 1, "kind": t.kind, "said": "****" if secret else said,
                     "heard": "****" if secret else t.transcript, "intent": t.intent, "command": t.command,
                     # only the slots the turn expects (the rest is the whole call's state)
                     "slots": {k: ("****" if k in hidden else v) for k, v in t.slots.items()
                               if k in expected.get("slots", {})},
                     "prompts": t.prompts,
                     "prompt_texts": [redact(x) for x in t.prompt_texts] if t.kind == "audio" else [],
                     "no_input": t.no_input, "failures": failures, "expected": expected})
    return rows


MISHEARD = "misheard → re-asked, script answered the wrong question"
CONFIRMED = "misheard → bot asked 'did you mean …?', script answered the wrong question"


def _reasked(t: dict[str, Any]) -> str | None:
    """How the bot answered a speech turn it did not take: None when it took it."""
    if any(p.endswith(".confirm") for p in t["prompts"]):
        return CONFIRMED
    if any(any(w in p.rsplit(".", 1)[-1] for w in REASK) for p in t["prompts"]):
        return MISHEARD
    return None


def _first_unheard(turns: list[dict[str, Any]]) -> dict[str, Any] | None:
    return next((t for t in turns if t["kind"] == "audio" and _reasked(t)), None)


def classify(row: dict[str, Any]) -> tuple[int | None, str]:
    """The kind, marked "[heard right]" when the transcript of that turn was the words said
    (the turn was not taken for want of confidence, not for a mishearing)."""
    turn, kind = _classify(row)
    t = next((t for t in row["turns"] if t["i"] == turn), None)
    if t is not None and t["kind"] == "audio" and t["said"] != "****" and _plain(t["heard"]) == _plain(t["said"]):
        kind += " [heard right]"
    return turn, kind


def _plain(text: str) -> str:
    return "".join(c for c in text if c.isalnum())


def _classify(row: dict[str, Any]) -> tuple[int | None, str]:
    """(first failing turn, kind) of a failed run, from its stored turns. The kind is
    decided at the first caller turn that went wrong: a speech turn the bot did not
    take (asked again or asked to confirm), or one it took the wrong way."""
    turns = row["turns"]
    first = next((t for t in turns if t["failures"]), None)
    unheard = _first_unheard(turns)
    if unheard is not None and (first is None or unheard["i"] <= first["i"]):
        first = unheard
    if first is None:
        return None, _call_kind(row)
    exp = first["expected"]
    miss = " ".join(first["failures"])
    if first["kind"] != "audio":
        before = [t for t in turns if t["i"] < first["i"] and t["kind"] == "audio"]
        last = before[-1] if before else None
        if last is not None and last["intent"] and last["expected"].get("intent") \
                and last["intent"] != last["expected"]["intent"]:
            return last["i"], "wrong intent routed"
        return first["i"], "keyed turn not taken (" + miss[:60] + ")"
    slots = exp.get("slots") or {}
    if first["intent"] and exp.get("intent") and first["intent"] != exp["intent"]:
        return first["i"], "wrong intent routed"
    if exp.get("command") and not first["command"]:
        return first["i"], "command not understood (" + (_reasked(first) or "ignored") + ")"
    if exp.get("intent") and first["command"] and not first["intent"]:
        return first["i"], f"answer taken as a command ({first['command']}) and confirmed, script went on"
    if any(isinstance(v, bool) for v in slots.values()):
        protective = any(k.startswith("confirm") for k in slots)
        return first["i"], "yes/no not understood at a " + ("protective step" if protective else "plain yes/no step")
    if slots:
        return first["i"], "number not understood"
    if _reasked(first):
        return first["i"], _reasked(first) or MISHEARD
    return first["i"], "other turn failure (" + miss[:60] + ")"


def _call_kind(row: dict[str, Any]) -> str:
    text = " ".join(row["failures"])
    if row["outcome"] in ("handed_off", "abandoned", "failed"):
        return f"hung up / agent ({row['outcome']})"
    return "call expectation missed (" + text[:60] + ")"


HAN_DIGITS = dict(zip("零一二三四五六七八九", "0123456789", strict=True)) | {"〇": "0", "么": "1", "兩": "2"}
COMMAND_KEYS = {"agent": "0"}  # "轉接專人請按0" (flows/menu.yaml)
MAX_FALLBACKS = 2


def menu_keys(flows: Path = ROOT / "flows") -> dict[str, str]:
    """The key each choice has in the flows' menus ({"check_balance": "1", "lang_nan": "2", ...})."""
    import yaml

    keys: dict[str, str] = {}
    for f in sorted(flows.glob("*.yaml")):
        for step in (yaml.safe_load(f.read_text(encoding="utf-8")) or {}).get("steps", []):
            for key, value in (step.get("dtmf") or {}).items():
                if isinstance(value, str):
                    keys.setdefault(value, str(key))
    return keys


def fallback_keys(row: dict[str, Any], base: Scenario, keys: dict[str, str],
                  describe: Any) -> tuple[int, list[str], str]:
    """A caller who, when the bot did not take what they said and its next question offers
    keys ("…請按1"), answers with those keys: (turn index, keys to press, ""), or
    (-1, [], why not) when the bot offered no keys or the caller's answer has none."""
    t = _first_unheard(row["turns"])
    if t is None:
        return -1, [], "no speech turn was asked again"
    i = t["i"] - 1
    exp = base.turns[i].expect
    texts = t["prompt_texts"]
    if exp is None:
        return -1, [], "the script does not say what the caller meant"
    if not any("請按" in x for x in texts):
        return -1, [], "the bot's next question offered no keys"
    want: list[str] = []
    if exp.intent:
        want = [keys[exp.intent]] if exp.intent in keys else []
    elif exp.command:
        want = [COMMAND_KEYS[exp.command]] if exp.command in COMMAND_KEYS else []
    elif exp.slots:
        value = next(iter(exp.slots.values()))
        if isinstance(value, bool):
            want = ["1" if value else "2"]
        elif exp.reference and all(c in HAN_DIGITS for c in exp.reference):
            want = ["".join(HAN_DIGITS[c] for c in exp.reference)]
    if not want:
        return -1, [], "no key for this answer"
    if _reasked(t) == CONFIRMED:
        # "請問您是要{label}嗎？…是請按1": yes when that is the caller's service, else no and the key
        label = describe(exp.intent or "", "zh-TW") if exp.intent else None
        asked = texts[-1] if texts else ""
        want = ["1"] if label and label in asked else ["2", *want]
    return i, want, ""


def with_keys(sc: Scenario, i: int, keys: list[str]) -> Scenario:
    """The scenario with the caller pressing ``keys`` after turn i, which hands them its expectations."""
    said = sc.turns[i]
    pressed = [Turn(dtmf=k, line=said.line) for k in keys]
    pressed[-1] = pressed[-1].model_copy(update={"expect": said.expect})
    turns = [*sc.turns[:i], said.model_copy(update={"expect": None}), *pressed, *sc.turns[i + 1:]]
    return sc.model_copy(update={"turns": turns})


def run_one(sc: Scenario, res: Resources) -> dict[str, Any]:
    r = run_scenarios([sc], RunOptions(prewarm=False), resources=res).results[0]
    row = {"status": r.status, "outcome": r.outcome, "expected_outcome": sc.expect.outcome,
           "queue": r.handoff_queue, "failures": r.failures, "message": r.message, "turns": _turn_rows(r)}
    row["completed"] = completed(row)
    return row


def keys_caller(sc: Scenario, row: dict[str, Any], res: Resources, keys: dict[str, str],
                describe: Any) -> dict[str, Any]:
    """The same caller, who answers with the keys the bot offers after it missed what they said."""
    pressed: list[list[Any]] = []
    why = ""
    for _ in range(MAX_FALLBACKS):
        if row["completed"]:
            break
        i, press, why = fallback_keys(row, sc, keys, describe)
        if i < 0:
            break
        secret = row["turns"][i]["said"] == "****"
        sc = with_keys(sc, i, press)
        pressed.append([i + 1, ["*" * len(k) for k in press] if secret else press])
        row = run_one(sc, res)
    out: dict[str, Any] = {"completed": row["completed"], "pressed": pressed}
    if not row["completed"]:
        out["no_keys_because"] = why
    if pressed and not row["completed"]:
        out |= {"failures": row["failures"], "turns": row["turns"], "outcome": row["outcome"]}
    return out


def completed(row: dict[str, Any]) -> bool:
    """The call did what the scenario expects (an xfail scenario that now passes did)."""
    call = [f for f in row["failures"] if not f.startswith("marked xfail")]
    return row["status"] != "error" and bool(row["turns"]) and not call \
        and not any(t["failures"] for t in row["turns"])


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    table: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    kinds: Counter[str] = Counter()
    examples: dict[str, list[dict[str, Any]]] = defaultdict(list)
    keyed: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    keyed_kinds: Counter[str] = Counter()
    for row in rows:
        ok = row["completed"] = completed(row)
        for key in (("condition", row["condition"]), ("voice", row["voice"]), ("all", "all"),
                    ("voice×condition", f"{row['voice']} {row['condition']}")):
            cell = table[key[0]][key[1]]
            cell[0] += ok
            cell[1] += 1
        wk = row.get("with_keys")
        if wk is not None:
            for k in ("all", row["condition"]):
                keyed[k][0] += wk["completed"]
                keyed[k][1] += 1
            if not wk["completed"]:
                last = wk if "turns" in wk else row
                keyed_kinds[f"{classify(last)[1]} — keys not used: {wk.get('no_keys_because') or 'pressed, still failed'}"] += 1
        if not ok:
            turn, kind = classify(row)
            row["first_failing_turn"], row["failure_kind"] = turn, kind
            kinds[kind] += 1
            if len(examples[kind]) < 2:
                examples[kind].append({"run": row["name"], "turn": turn, "dialogue": [
                    {k: t[k] for k in ("i", "kind", "said", "heard", "intent", "command", "prompts", "failures")}
                    for t in row["turns"][: (turn or len(row["turns"]))]], "call_failures": row["failures"]})
    return {"completed": {g: {k: {"done": v[0], "runs": v[1], "rate": round(v[0] / v[1], 3)}
                              for k, v in sorted(d.items())} for g, d in table.items()},
            "failure_kinds": dict(kinds.most_common()), "examples": examples,
            "completed_with_keys_after_a_miss": {k: {"done": v[0], "runs": v[1], "rate": round(v[0] / v[1], 3)}
                                                 for k, v in sorted(keyed.items())},
            "failure_kinds_with_keys": dict(keyed_kinds.most_common())}


def show(summary: dict[str, Any]) -> None:
    done = summary["completed"]
    for group in ("all", "condition", "voice", "voice×condition"):
        for k, v in done.get(group, {}).items():
            print(f"  {group:16s} {k:24s} {v['done']:3d}/{v['runs']:<3d} {v['rate']:6.1%}")
    print("failure kinds (scripted caller):")
    for kind, n in summary["failure_kinds"].items():
        print(f"  {n:3d}  {kind}")
    print("caller who answers with the offered keys after a miss:")
    for k, v in summary["completed_with_keys_after_a_miss"].items():
        print(f"  {k:24s} {v['done']:3d}/{v['runs']:<3d} {v['rate']:6.1%}")
    for kind, n in summary["failure_kinds_with_keys"].items():
        print(f"  {n:3d}  {kind}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--voices", default=",".join(f"{a}@{b}" for a, b in VOICES),
                    help=f"comma-separated engine@speed (known: {', '.join(f'{a}@{b}' for a, b in VOICES)})")
    ap.add_argument("--conditions", default=",".join(CONDITIONS))
    ap.add_argument("-k", dest="pattern", default=None, help="only scenarios whose name contains this")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--append", action="store_true", help="add these runs to those already in --out")
    ap.add_argument("--before", type=Path, default=None,
                    help="an earlier run's JSON (e.g. before a dialog change): its figures are kept as 'before'")
    ap.add_argument("--reclassify", type=Path, default=None,
                    help="run nothing: classify the stored runs of this JSON file again")
    args = ap.parse_args(argv)
    if args.reclassify:
        doc = json.loads(args.reclassify.read_text(encoding="utf-8"))
        doc |= summarise(doc["runs"])
        show(doc)
        args.out.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        return 0
    known = {f"{a}@{b}" for a, b in VOICES}
    voices_asked = [v for v in args.voices.split(",") if v]
    conditions = [c for c in args.conditions.split(",") if c]
    bad = [v for v in voices_asked if v not in known] + [c for c in conditions if c not in CONDITIONS]
    if bad:
        ap.error(f"unknown voice or condition {bad[0]!r} (voices: {', '.join(sorted(known))}; "
                 f"conditions: {', '.join(CONDITIONS)})")
    import logging

    logging.getLogger("ivr.prompts").setLevel(logging.ERROR)
    scenarios = [s for s in load_scenarios([FIXTURES], args.pattern) if revoicable(s)]
    print(f"{len(scenarios)} scenarios with a reference on every audio turn; voices {voices_asked}; "
          f"conditions {conditions}", flush=True)
    t0 = time.perf_counter()
    voices = Voices()
    res = Resources(RunOptions())
    keys, describe = menu_keys(), res.nlu().describe
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="revoiced-") as tmp:
        for voice in voices_asked:
            for cond in conditions:
                batch = [revoice(s, voice, cond, voices, Path(tmp)) for s in scenarios]
                for base, sc in zip(scenarios, batch, strict=True):
                    row = run_one(sc, res)
                    row |= {"name": base.name, "voice": voice, "condition": cond, "xfail": base.xfail}
                    row["with_keys"] = keys_caller(sc, row, res, keys, describe)
                    rows.append(row)
                n = sum(row["completed"] for row in rows[-len(batch):])
                m = sum(row["with_keys"]["completed"] for row in rows[-len(batch):])
                print(f"  {voice:12s} {cond:10s} {n:3d}/{len(batch)} completed, {m:3d} with keys after a miss  "
                      f"({time.perf_counter() - t0:.0f} s elapsed)", flush=True)
    if args.append and args.out.exists():
        old = json.loads(args.out.read_text(encoding="utf-8"))["runs"]
        new_keys = {(r["name"], r["voice"], r["condition"]) for r in rows}
        rows = [r for r in old if (r["name"], r["voice"], r["condition"]) not in new_keys] + rows
    doc: dict[str, Any] = {"scenarios": [s.name for s in scenarios], "conditions": conditions,
                           "voices": sorted({r["voice"] for r in rows}), "seconds": round(time.perf_counter() - t0, 1),
                           "newly_synthesized": voices.made,
                           "outside_evaluation": {"completed": 27, "calls": 47, "note": "real callers, weeks ago"}}
    doc |= summarise(rows)
    if args.before:
        old_doc = json.loads(args.before.read_text(encoding="utf-8"))
        doc["before"] = {k: v for k, v in old_doc.items() if k not in ("runs", "examples", "before")}
    doc["runs"] = rows
    show(doc)
    print(f"elapsed {doc['seconds']} s")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
