"""A flow as a Mermaid flowchart, for reviews and docs."""
from __future__ import annotations

from ivr.dialog.loader import FlowSet
from ivr.dialog.models import (
    ActionStep,
    BranchStep,
    CallStep,
    CollectStep,
    EndStep,
    Flow,
    HandoffSpec,
    HandoffStep,
    LinkStep,
    ReturnStep,
    SayStep,
)
from ivr.dialog.validate import successors


def _label(text: str) -> str:
    return text.replace('"', "'").replace("\n", " ")[:60]


def _node(flow: Flow, step) -> str:
    sid = f"{flow.flow}__{step.id}"
    if isinstance(step, CollectStep):
        return f'{sid}[/"{step.id}<br/>collect {step.collect}: {step.type}"/]'
    if isinstance(step, ActionStep):
        return f'{sid}[["{step.id}<br/>action {step.action}"]]'
    if isinstance(step, BranchStep):
        return f'{sid}{{"{step.id}"}}'
    if isinstance(step, SayStep):
        text = step.say.get("zh-TW") or step.say.get("nan-TW")
        return f'{sid}["{step.id}<br/>say: {_label(text.text if text else "")}"]'
    if isinstance(step, HandoffStep):
        return f'{sid}(["{step.id}<br/>handoff {step.handoff.queue}: {step.handoff.reason}"])'
    if isinstance(step, EndStep):
        return f'{sid}((("{step.id}<br/>end")))'
    if isinstance(step, ReturnStep):
        return f'{sid}(("{step.id}<br/>return"))'
    if isinstance(step, LinkStep):
        return f'{sid}>"{step.id}<br/>link {step.link}"]'
    if isinstance(step, CallStep):
        return f'{sid}[["{step.id}<br/>call {step.call}"]]'
    return f'{sid}["{step.id}"]'


def mermaid(flows: FlowSet, flow_id: str) -> str:
    flow = flows[flow_id]
    lines = ["flowchart TD", f"  %% flow {flow.flow}: {_label(flow.description)}"]
    lines += [f"  {_node(flow, s)}" for s in flow.steps]
    graph = successors(flow, flows.flows)
    for s in flow.steps:
        src = f"{flow.flow}__{s.id}"
        for target, label, _ in graph[s.id]:
            arrow = f" -->|{_label(label)}| " if label else " --> "
            lines.append(f"  {src}{arrow}{flow.flow}__{target}")
        handoff = None
        if isinstance(s, CollectStep) and isinstance(s.on_exhausted, HandoffSpec):
            handoff, label = s.on_exhausted, "retries exhausted"
        if isinstance(s, ActionStep) and isinstance(s.on_failure, HandoffSpec):
            handoff, label = s.on_failure, "failed"
        if handoff is not None:
            lines.append(f'  {src}__h(["handoff {handoff.queue}: {handoff.reason}"])')
            lines.append(f"  {src} -->|{label}| {src}__h")
        if isinstance(s, ActionStep) and s.on_failure is None:
            lines.append(f'  {src}__h(["handoff T1: backend failure"])')
            lines.append(f"  {src} -->|failed| {src}__h")
        if isinstance(s, (LinkStep, CallStep)):
            target = s.link if isinstance(s, LinkStep) else s.call
            lines.append(f'  {src} -.-> flow_{target}(["flow {target}"])')
    return "\n".join(lines) + "\n"
