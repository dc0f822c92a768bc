"""A stored call (its record and caller audio) turned into a scenario file,
so a call that went wrong in production becomes a regression test.

Each caller utterance is cut from the recorded caller track into its own WAV
next to the scenario; keys become DTMF turns (keys the record masked, like a PIN, become empty
``vars`` to fill in), timeouts become silence. The
expectations written are what the bot did on that call (intent, prompt,
outcome, queue): review them and change the ones that were wrong.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from ivr.audio import read_wav, write_wav
from ivr.errors import IvrError
from ivr.qa.loader import load_scenario

PAD_S = 0.25  # kept either side of an utterance so the endpointer sees its edges
NO_INPUT_SILENCE_MS = 7000


class RecordError(IvrError):
    """A stored call that cannot be turned into a scenario."""


def _safe_name(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", s).strip("_") or "call"


def _masked(turn_event: dict[str, Any]) -> bool:
    """Keys of a secret step (PIN, one-time code) are stored as '*'s by the
    session (the event says ``secret``), and a record store that redacts masks
    any long digit run the same way."""
    keys = str(turn_event.get("dtmf", ""))
    return bool(turn_event.get("secret")) or (len(keys) > 1 and "*" in keys)


def _turn_blocks(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Group the record's events by caller turn: each ``turn`` event closes
    one (with the ``recognized`` that led to it); the prompts after it are the
    bot's answer."""
    blocks: list[dict[str, Any]] = []
    pending_rec: list[dict[str, Any]] = []
    for e in events:
        kind = e["kind"]
        if kind == "recognized":
            pending_rec.append(e)
        elif kind == "turn":
            blocks.append({"turn": e, "recognized": pending_rec, "prompts": [], "intent": None})
            pending_rec = []
        elif kind == "prompt" and blocks and not e.get("skipped"):
            blocks[-1]["prompts"].append(e)
        elif kind == "intent" and blocks and blocks[-1]["intent"] is None:
            blocks[-1]["intent"] = e.get("intent")
    return blocks


def record_to_scenario(call_id: str, db: str | Path, out: str | Path, name: str | None = None,
                       engine: str | None = None) -> Path:
    """Write ``out`` (a scenario YAML) and its audio clips from call ``call_id``
    in the call record database ``db``; returns the scenario path."""
    from ivr.session import CallRecordStore

    db = Path(db)
    if not db.is_file():
        raise RecordError("no such call record database", str(db))
    store = CallRecordStore(db)
    try:
        rec = store.get(call_id)
        known = store.call_ids()
    finally:
        store.close()
    if rec is None:
        hint = f" (latest: {', '.join(known[-3:])})" if known else " (the database has no calls)"
        raise RecordError(f"no call {call_id!r}{hint}", str(db))
    if not rec.caller_audio:
        raise RecordError(f"call {call_id} has no caller audio: the record store was not keeping audio", str(db))
    audio_path = Path(rec.caller_audio)
    if not audio_path.is_absolute():
        audio_path = db.parent / audio_path
    samples, rate = read_wav(audio_path)

    out = Path(out)
    if out.suffix not in (".yaml", ".yml"):
        out = out / f"{_safe_name(name or call_id)}.yaml"
    out.parent.mkdir(parents=True, exist_ok=True)
    scen_name = _safe_name(name or out.stem)
    clip_dir = out.parent / f"{out.stem}_audio"

    turns: list[dict[str, Any]] = []
    secret_vars: dict[str, str] = {}
    for i, b in enumerate(_turn_blocks(rec.events)):
        ev = b["turn"]
        turn: dict[str, Any]
        if ev.get("no_input"):
            turn = {"silence_ms": NO_INPUT_SILENCE_MS}
        elif ev.get("dtmf") and not _masked(ev):
            turn = {"dtmf": ev["dtmf"]}
        elif ev.get("dtmf") or ev.get("secret"):
            # Keys masked in the record (a PIN, or a long number the store
            # redacted), or a secret said aloud (its audio was kept as
            # silence): only the person writing the test knows them.
            var = f"keys_{i + 1}"
            secret_vars[var] = ""
            turn = {"dtmf": "{" + var + "}"}
        elif b["recognized"]:
            r = b["recognized"][-1]
            a, z = max(0.0, float(r["start"]) - PAD_S), float(r["end"]) + PAD_S
            clip = samples[int(a * rate): int(z * rate)]
            clip_dir.mkdir(exist_ok=True)
            clip_path = clip_dir / f"turn{i + 1:02d}.wav"
            write_wav(clip_path, clip, rate)
            turn = {"audio": clip_path.relative_to(out.parent).as_posix()}
        else:
            continue
        expect: dict[str, Any] = {}
        text = ev.get("text") or (b["recognized"][-1].get("text") if b["recognized"] else "")
        if text and "audio" in turn:
            expect["reference"] = text
            expect["cer_below"] = 0.5
        if b["intent"]:
            expect["intent"] = b["intent"]
        if b["prompts"]:
            expect["prompt"] = b["prompts"][0]["key"]
        if expect:
            turn["expect"] = expect
        turns.append(turn)
    if not turns:
        raise RecordError(f"call {call_id} has no caller turns to replay", str(db))

    call_expect: dict[str, Any] = {}
    if rec.outcome:
        call_expect["outcome"] = rec.outcome
    transfers = rec.of_kind("transfer")
    if transfers:
        call_expect["handoff"] = {"queue": transfers[-1]["queue"], "reason": transfers[-1].get("reason") or None}
        if call_expect["handoff"]["reason"] is None:
            del call_expect["handoff"]["reason"]
    doc: dict[str, Any] = {
        "name": scen_name,
        "description": f"recorded call {call_id} ({rec.transport or 'call'}, {rec.duration or 0:.0f} s); "
                       "expectations are what the bot did: review them",
        "language": rec.language if rec.language in ("zh-TW", "nan-TW") else "zh-TW",
        "sample_rate": 8000 if rate <= 8000 else 16000,
        "tags": ["recorded"],
    }
    masked_caller = not rec.caller or "*" in rec.caller
    if not masked_caller:
        doc["caller"] = rec.caller
    if engine:
        doc["engine"] = engine
    if secret_vars:
        doc["vars"] = secret_vars
    doc["turns"] = turns
    doc["expect"] = call_expect
    note = ("# Keys the record had masked are the empty entries under vars: fill in test values.\n"
            if secret_vars else "")
    if masked_caller and rec.caller:
        note += "# The caller's number was masked in the record: add caller: with a test number if the flow uses it.\n"
    out.write_text(
        f"# Made by `ivr record {call_id}` from {db.name}.\n" + note
        + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=110),
        encoding="utf-8",
    )
    load_scenario(out)  # what we wrote must load
    return out
