"""Checking a finished call against a scenario's expectations.

Every miss becomes one readable line saying what was expected and what
happened instead, e.g. ``intent: expected check_balance, got report_card_loss``.
"""
from __future__ import annotations

from typing import Any

from ivr.asr.scoring import cer, contains
from ivr.qa.results import ScenarioResult, TurnResult
from ivr.qa.scenario import CallExpect, TurnExpect


def _as_list(v: str | list[str] | None) -> list[str]:
    return [] if v is None else [v] if isinstance(v, str) else list(v)


def _same(expected: Any, actual: Any) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return bool(expected) == bool(actual) and actual is not None
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(k in actual and _same(v, actual[k]) for k, v in expected.items())
    if isinstance(expected, list):
        return isinstance(actual, (list, tuple)) and all(any(_same(e, a) for a in actual) for e in expected)
    if expected == "*":
        return actual not in (None, "", [], {})
    if isinstance(actual, (list, tuple)) and not isinstance(expected, (list, tuple)):
        return any(_same(expected, a) for a in actual)
    return str(expected) == str(actual)


def _show(v: Any) -> str:
    return repr(v) if isinstance(v, str) else str(v)


def _slot_miss(k: str, v: Any, actual: Any, secret: list[str], when: str = "") -> str:
    if k in secret:  # a PIN or code: say that it differs, never what it is
        return f"slot {k}: the secret value{when} is not the one expected"
    return f"slot {k}: expected {_show(v)}{when}, got {_show(actual)}"


def check_turn(t: TurnResult, exp: TurnExpect) -> None:
    f = t.failures
    heard = t.transcript
    if t.secret and (exp.reference or exp.transcript_contains):
        # the words of a secret step are never kept (they are '****' in the record): its slot is what to check
        if exp.cer_below is not None or exp.transcript_contains:
            f.append("transcript: a secret step's words are not kept; expect its slot instead")
        exp = exp.model_copy(update={"reference": None, "transcript_contains": None})
    for needle in _as_list(exp.transcript_contains):
        if not contains(heard, needle):
            f.append(f"transcript: expected it to contain {needle!r}, heard {heard!r}")
    if exp.reference:
        t.cer = cer(exp.reference, heard)
        if exp.cer_below is not None and t.cer >= exp.cer_below:
            f.append(f"CER {t.cer:.2f} not below {exp.cer_below:.2f} (said {exp.reference!r}, heard {heard!r})")
    if exp.intent is not None and t.intent != exp.intent:
        f.append(f"intent: expected {exp.intent}, got {t.intent or 'none'}")
    if exp.command is not None and t.command != exp.command:
        f.append(f"command: expected {exp.command}, got {t.command or 'none'}")
    for k, v in (exp.slots or {}).items():
        if k not in t.slots:
            f.append(f"slot {k}: expected {_show(v)}, not filled (slots: {sorted(t.slots) or 'none'})")
        elif not _same(v, t.slots[k]):
            f.append(_slot_miss(k, v, t.slots[k], t.secret_slots))
    want = _as_list(exp.prompt)
    if want:
        missing = [k for k in want if k not in t.prompts]
        if missing:
            f.append(f"prompt: expected {', '.join(missing)}, bot played {', '.join(t.prompts) or 'nothing'}")
    if exp.no_input is not None and t.no_input != exp.no_input:
        f.append("expected no input to be detected" if exp.no_input
                 else "expected input, but the bot timed out (no input)")
    if exp.barged_in is not None and t.barged_in != exp.barged_in:
        f.append("expected the caller to barge in on the prompt" if exp.barged_in else "did not expect a barge-in")


def check_call(r: ScenarioResult, exp: CallExpect, final_state: dict[str, Any], bundle: dict[str, Any] | None,
               record_language: str) -> None:
    f = r.failures
    if exp.outcome is not None and r.outcome != exp.outcome:
        f.append(f"outcome: expected {exp.outcome}, got {r.outcome or 'none'}")
    if exp.handoff is not None:
        if bundle is None:
            f.append(f"handoff: expected a transfer to {exp.handoff.queue}, but the call was not handed off")
        else:
            if r.handoff_queue != exp.handoff.queue:
                f.append(f"handoff queue: expected {exp.handoff.queue}, got {r.handoff_queue}")
            if exp.handoff.reason is not None and bundle.get("reason") != exp.handoff.reason:
                f.append(f"handoff reason: expected {exp.handoff.reason!r}, got {bundle.get('reason')!r}")
            for k, v in exp.handoff.context.items():
                if k not in bundle:
                    f.append(f"handoff context: no field {k!r} (fields: {', '.join(sorted(bundle))})")
                elif not _same(v, bundle[k]):
                    f.append(f"handoff context {k}: expected {_show(v)}, got {_show(bundle[k])}")
    if exp.no_handoff and bundle is not None:
        f.append(f"expected no handoff, but the call went to {r.handoff_queue} ({bundle.get('reason') or 'no reason'})")
    for k in exp.prompts_include:
        if k not in r.prompts:
            f.append(f"prompts: expected {k} to be played at some point; played {', '.join(r.prompts) or 'nothing'}")
    for k in exp.prompts_exclude:
        if k in r.prompts:
            f.append(f"prompts: {k} was played but should not have been")
    if exp.final_language is not None and record_language != exp.final_language:
        f.append(f"language: expected the call to end in {exp.final_language}, it ended in {record_language}")
    if exp.intent is not None and final_state.get("intent") != exp.intent:
        f.append(f"call intent: expected {exp.intent}, got {final_state.get('intent') or 'none'}")
    for k, v in (exp.slots or {}).items():
        slots = final_state.get("slots") or {}
        if k not in slots:
            f.append(f"slot {k}: expected {_show(v)} by the end of the call, not filled")
        elif not _same(v, slots[k]):
            f.append(_slot_miss(k, v, slots[k], list(final_state.get("secret_slots") or ()), " by the end of the call"))
    if exp.max_turns is not None:
        n = len(final_state.get("turns") or [])
        if n > exp.max_turns:
            f.append(f"took {n} caller turns, expected at most {exp.max_turns}")
