"""The secrecy rule, checked before a flow runs: a slot is secret when a
collect step that fills it says ``secret: true`` (never guessed from its name),
and a secret is never spoken — no prompt may name it, and a secret step is
confirmed by entering the value twice (``confirm_by_reentry``), not read back
(``confirm``). The engine's renderer refuses the same slots at run time."""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from ivr.dialog.loader import ParsedFlow, Problem
from ivr.dialog.models import CollectStep, Flow
from ivr.dialog.render import TEMPLATE_VAR
from ivr.dialog.yaml_lines import LineDict, LineList, line_of

PROMPT_KEYS = ("zh-TW", "nan-TW", "text")
# values that are never spoken: backend arguments, conditions, recognizer hints, keys
NOT_SPOKEN = frozenset({"args", "if", "expected", "dtmf", "save", "regex", "audio"})


def secret_slots(flows: Iterable[Flow]) -> frozenset[str]:
    """Every slot some flow collects with ``secret: true`` (slots are shared across flows)."""
    return frozenset(s.collect for f in flows for s in f.steps if isinstance(s, CollectStep) and s.secret)


def _spoken(raw: Any, line: int = 0) -> Iterator[tuple[str, int]]:
    """(template variable, line) for every prompt text in a raw YAML node."""
    if isinstance(raw, LineDict):
        for k, v in raw.items():
            if k in NOT_SPOKEN:
                continue
            ln = raw.key_lines.get(k, line)
            if isinstance(v, str):
                if k in PROMPT_KEYS:
                    yield from ((m.group(1), ln) for m in TEMPLATE_VAR.finditer(v))
            else:
                yield from _spoken(v, ln)
    elif isinstance(raw, LineList):
        for v, ln in zip(raw, raw.item_lines, strict=True):
            yield from _spoken(v, ln)


def check_secrets(pf: ParsedFlow, secrets: frozenset[str]) -> list[Problem]:
    flow, raw, where = pf.flow, pf.raw, str(pf.path)
    if flow is None or not isinstance(raw, LineDict):
        return []
    problems: list[Problem] = []
    steps_raw = raw.get("steps")
    for i, step in enumerate(flow.steps):
        node = steps_raw[i] if isinstance(steps_raw, LineList) and i < len(steps_raw) else None
        for name, line in _spoken(node, line_of(raw, ("steps", i, "id"))):
            if name in secrets:
                problems.append(Problem(where, line, f"step '{step.id}': a prompt says secret slot '{name}' "
                                                     "(secrets are never spoken; confirm with confirm_by_reentry)"))
        if isinstance(step, CollectStep) and step.secret and step.confirm is not None:
            problems.append(Problem(where, line_of(raw, ("steps", i, "confirm")),
                                    f"step '{step.id}': a secret step cannot use 'confirm' (it reads the value "
                                    "back); use confirm_by_reentry"))
    for name, line in _spoken(raw.get("defaults"), line_of(raw, ("defaults",))):
        if name in secrets:
            problems.append(Problem(where, line, f"defaults: a prompt says secret slot '{name}' "
                                                 "(secrets are never spoken)"))
    return problems
