"""Checks beyond the schema: what a flow designer gets wrong in practice.
Every problem carries the file and line of the offending key."""
from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ivr.dialog.conditions import condition_names
from ivr.dialog.loader import ParsedFlow, Problem, read_dir
from ivr.dialog.models import (
    KNOWN_INTENTS,
    ActionStep,
    BranchStep,
    CallStep,
    CollectStep,
    Flow,
    LinkStep,
    Prompt,
    PromptText,
    SayStep,
)
from ivr.dialog.policy import policy_problems
from ivr.dialog.render import TEMPLATE_VAR
from ivr.dialog.secrecy import check_secrets, secret_slots
from ivr.dialog.yaml_lines import LineDict, LineList, line_of

# Names every condition/template may use without collecting them.
BUILTINS = frozenset({"intent", "verified", "verify_method", "language", "caller", "called", "call_id",
                      "error", "true", "false", "null", "True", "False", "None"})


def flow_sets(flow: Flow) -> frozenset[str]:
    """Slots a flow fills somewhere (what a `call` of it may leave behind)."""
    out = {s.collect for s in flow.steps if isinstance(s, CollectStep)}
    for s in flow.steps:
        if isinstance(s, ActionStep):
            out |= set(s.save)
    return frozenset(out)


def successors(flow: Flow, flows: dict[str, Flow] | None = None) -> dict[str, list[tuple[str, str, frozenset[str]]]]:
    """Step graph of one flow: step id -> [(target id, edge label, slots set on that edge)].
    A `call` edge carries the slots the called flow fills."""
    out: dict[str, list[tuple[str, str, frozenset[str]]]] = {}
    ids = [s.id for s in flow.steps]
    for i, s in enumerate(flow.steps):
        follow = s.next or (ids[i + 1] if i + 1 < len(ids) else None)
        edges: list[tuple[str, str, frozenset[str]]] = []
        if isinstance(s, CollectStep):
            if follow:
                edges.append((follow, "", frozenset({s.collect})))
            if isinstance(s.on_exhausted, str):
                edges.append((s.on_exhausted, "retries exhausted", frozenset()))
        elif isinstance(s, ActionStep):
            if follow:
                edges.append((follow, "ok", frozenset(s.save)))
            if isinstance(s.on_failure, str):
                edges.append((s.on_failure, "failed", frozenset()))
        elif isinstance(s, BranchStep):
            for r in s.branch:
                if r.else_ is not None:
                    edges.append((str(r.else_), "else", frozenset()))
                else:
                    edges.append((str(r.then), str(r.if_), frozenset()))
            if not any(r.else_ is not None for r in s.branch) and follow:
                edges.append((follow, "else", frozenset()))
        elif isinstance(s, CallStep):
            if follow:
                called = (flows or {}).get(s.call)
                edges.append((follow, "", flow_sets(called) if called else frozenset()))
        elif isinstance(s, SayStep) and follow:
            edges.append((follow, "", frozenset()))
        out[s.id] = edges
    return out


def _walk_prompts(obj: Any, loc: tuple = ()) -> Iterator[tuple[tuple, Prompt]]:
    if isinstance(obj, Prompt):
        yield loc, obj
    elif isinstance(obj, BaseModel):
        for name, f in type(obj).model_fields.items():
            yield from _walk_prompts(getattr(obj, name), loc + (f.alias or name,))
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            yield from _walk_prompts(v, loc + (i,))
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from _walk_prompts(v, loc + (k,))


def _uses(raw: Any, line: int = 0, in_args: bool = False) -> Iterator[tuple[str, int]]:
    """(slot name, line) for each template variable and condition name in a raw step."""
    if isinstance(raw, LineDict):
        for k, v in raw.items():
            ln = raw.key_lines.get(k, line)
            if k == "if" and isinstance(v, str):
                try:
                    names = condition_names(v)
                except ValueError:
                    continue
                yield from ((n, ln) for n in sorted(names))
            elif isinstance(v, str):
                if k in ("zh-TW", "nan-TW", "text") or in_args:
                    yield from ((m.group(1), ln) for m in TEMPLATE_VAR.finditer(v))
            elif k not in ("expected", "dtmf", "save"):
                yield from _uses(v, ln, in_args or k == "args")
    elif isinstance(raw, LineList):
        for v, ln in zip(raw, raw.item_lines, strict=False):
            yield from _uses(v, ln, in_args)


def _sccs(nodes: list[str], succ: dict[str, list[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:  # flows are small; recursion depth is bounded by step count
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in succ.get(v, []):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(comp)

    for n in nodes:
        if n not in index:
            visit(n)
    return out


@dataclass
class FlowCheck:
    """What every check of one flow reads, and where its problems go."""

    pf: ParsedFlow
    all_flows: dict[str, Flow]
    base: Path
    backends: Collection[str] | None
    problems: list[Problem] = field(default_factory=list)
    ids: dict[str, int] = field(default_factory=dict)  # step id -> index of its first definition

    @property
    def flow(self) -> Flow:
        assert self.pf.flow is not None
        return self.pf.flow

    @property
    def raw(self) -> Any:
        return self.pf.raw

    def step_line(self, i: int, key: str | None = None) -> int:
        return line_of(self.raw, ("steps", i, key) if key else ("steps", i, "id"))

    def add(self, line: int, msg: str) -> None:
        self.problems.append(Problem(str(self.pf.path), line, msg))


def check_ids(c: FlowCheck) -> None:
    """Step ids are unique within a flow."""
    for i, s in enumerate(c.flow.steps):
        if s.id in c.ids:
            c.add(c.step_line(i), f"duplicate step id '{s.id}' (first at line {c.step_line(c.ids[s.id])})")
        else:
            c.ids[s.id] = i


def check_references(c: FlowCheck) -> None:
    """Every step, flow and backend a step names exists."""
    for i, s in enumerate(c.flow.steps):
        targets: list[tuple[str, tuple]] = []
        if s.next:
            targets.append((s.next, ("next",)))
        if isinstance(s, CollectStep) and isinstance(s.on_exhausted, str):
            targets.append((s.on_exhausted, ("on_exhausted",)))
        if isinstance(s, ActionStep) and isinstance(s.on_failure, str):
            targets.append((s.on_failure, ("on_failure",)))
        if isinstance(s, BranchStep):
            for j, r in enumerate(s.branch):
                t, key = (r.else_, "else") if r.else_ is not None else (r.then, "then")
                targets.append((str(t), ("branch", j, key)))
        for t, loc in targets:
            if t not in c.ids:
                c.add(line_of(c.raw, ("steps", i) + loc), f"step '{s.id}': unknown step '{t}'")
        for key, target in (("link", getattr(s, "link", None)), ("call", getattr(s, "call", None))):
            if isinstance(s, (LinkStep, CallStep)) and target is not None and target not in c.all_flows:
                c.add(c.step_line(i, key), f"step '{s.id}': {key} to unknown flow '{target}'")
        if c.backends is not None:
            names: list[tuple[str, tuple[str, ...]]] = []
            if isinstance(s, ActionStep):
                names.append((s.action, ("action",)))
            if isinstance(s, CollectStep) and s.validation and s.validation.backend:
                names.append((s.validation.backend, ("validate", "backend")))
            for name, loc in names:
                if name not in c.backends:
                    c.add(line_of(c.raw, ("steps", i) + loc), f"step '{s.id}': unknown backend '{name}'")


def check_intents(c: FlowCheck) -> None:
    """An intent collect names known intents (or keys)."""
    for i, s in enumerate(c.flow.steps):
        if isinstance(s, CollectStep) and s.type == "intent":
            if not s.intents and not s.dtmf:
                c.add(c.step_line(i, "type"), f"step '{s.id}': an intent collect needs 'intents' or 'dtmf'")
            for j, name in enumerate(s.intents):
                if name not in KNOWN_INTENTS:
                    c.add(line_of(c.raw, ("steps", i, "intents", j)), f"step '{s.id}': unknown intent '{name}'")


def check_prompts(c: FlowCheck) -> None:
    """Every prompt has every language the flow declares, and its recordings exist."""
    flow = c.flow
    for loc, prompt in _walk_prompts(flow):
        for lang in flow.languages:
            p = prompt.get(lang)
            if p is None:
                what = f"step '{flow.steps[loc[1]].id}'" if loc and loc[0] == "steps" else "flow"
                c.add(line_of(c.raw, loc), f"{what}: prompt '{loc[-1]}' has no {lang} text")
            elif isinstance(p, PromptText) and p.audio and not (c.base / p.audio).is_file():
                c.add(line_of(c.raw, loc + (lang, "audio")), f"audio file '{p.audio}' not found")


def check_reachable(c: FlowCheck) -> set[str]:
    """Every step can be reached from the first; returns the reachable ids."""
    graph = successors(c.flow, c.all_flows)
    start = c.flow.steps[0].id
    seen, todo = {start}, [start]
    while todo:
        for t, _, _ in graph.get(todo.pop(), []):
            if t in c.ids and t not in seen:
                seen.add(t)
                todo.append(t)
    for i, s in enumerate(c.flow.steps):
        if s.id not in seen and c.ids.get(s.id) == i:
            c.add(c.step_line(i), f"step '{s.id}' is unreachable")
    return seen


def check_slots(c: FlowCheck, seen: set[str]) -> None:
    """A slot is collected on every path before a step uses it."""
    flow, all_flows = c.flow, c.all_flows
    graph = successors(flow, all_flows)
    start = flow.steps[0].id
    steps_raw = c.raw.get("steps", [])
    every = set(flow_sets(flow)) | set(flow.inputs)
    for s in flow.steps:
        if isinstance(s, CallStep) and s.call in all_flows:
            every |= flow_sets(all_flows[s.call])
    have: dict[str, set[str]] = {sid: set(every) for sid in seen}
    have[start] = set(flow.inputs)
    changed = True
    while changed:
        changed = False
        for sid in seen:
            for t, _, gen in graph.get(sid, []):
                if t in have and t != start:
                    new = have[t] & (have[sid] | gen)
                    if new != have[t]:
                        have[t], changed = new, True
    reported: set[tuple[str, str]] = set()
    for i, s in enumerate(flow.steps):
        if s.id not in seen or c.ids.get(s.id) != i:
            continue
        own = {s.collect} if isinstance(s, CollectStep) else set()
        own |= set(s.save) if isinstance(s, ActionStep) else set()
        step_raw = steps_raw[i] if isinstance(steps_raw, LineList) and i < len(steps_raw) else None
        for name, line in _uses(step_raw, c.step_line(i)):
            if name in BUILTINS or name in have[s.id]:
                continue
            if name in own and not (isinstance(s, ActionStep)):
                continue
            if (s.id, name) not in reported:
                reported.add((s.id, name))
                known = name in every
                c.add(line, f"step '{s.id}' uses slot '{name}' before it is collected" if known
                      else f"step '{s.id}' uses slot '{name}' that no step collects (declare it in 'inputs'?)")


def check_loops(c: FlowCheck) -> None:
    """No cycle a caller can never break (one without a collect or a call inside)."""
    flow = c.flow
    graph = successors(flow, c.all_flows)
    breakers = {s.id for s in flow.steps if isinstance(s, (CollectStep, CallStep))}
    succ = {sid: [t for t, _, _ in e if t in c.ids] for sid, e in graph.items()}
    for comp in _sccs([s.id for s in flow.steps], succ):
        cyclic = len(comp) > 1 or comp[0] in succ.get(comp[0], [])
        if cyclic and not breakers & set(comp):
            order = sorted(comp, key=lambda x: c.ids[x])
            c.add(c.step_line(c.ids[order[0]]), "steps " + " -> ".join(order + [order[0]]) + " loop without a collect")


def check_policy(c: FlowCheck) -> None:
    """Each language's dialog policy can run every closed-set step (ivr/dialog/policy.py)."""
    for i, loc, msg in policy_problems(c.flow):
        c.add(line_of(c.raw, ("steps", i, *loc)), msg)


def check_flow(pf: ParsedFlow, all_flows: dict[str, Flow], base: Path,
               backends: Collection[str] | None) -> list[Problem]:
    """Every check of one flow; each is its own function above."""
    c = FlowCheck(pf, all_flows, base, backends)
    check_ids(c)
    check_references(c)
    check_intents(c)
    check_prompts(c)
    seen = check_reachable(c)
    check_slots(c, seen)
    check_loops(c)
    check_policy(c)
    return c.problems


def validate_parsed(parsed: list[ParsedFlow], base: Path, backends: Collection[str] | None = None) -> list[Problem]:
    problems = [p for pf in parsed for p in pf.problems]
    flows: dict[str, Flow] = {}
    first: dict[str, ParsedFlow] = {}
    for pf in parsed:
        if pf.flow is None:
            continue
        fid = pf.flow.flow
        if fid in first:
            problems.append(Problem(str(pf.path), line_of(pf.raw, ("flow",)),
                                    f"duplicate flow id '{fid}' (also in {first[fid].path.name})"))
            continue
        first[fid] = pf
        flows[fid] = pf.flow
    secrets = secret_slots(flows.values())
    for pf in first.values():
        problems.extend(check_flow(pf, flows, base, backends))
        problems.extend(check_secrets(pf, secrets))
    return sorted(set(problems), key=lambda p: (p.file, p.line, p.message))


def validate_dir(directory: str | Path, backends: Collection[str] | None = None) -> list[Problem]:
    """Every problem in a flows directory (or one file), sorted by file and line."""
    parsed, base = read_dir(directory)
    return validate_parsed(parsed, base, backends)
