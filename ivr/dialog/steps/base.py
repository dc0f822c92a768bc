"""What a step module sees of the executor, and what it answers.

One module per step type (``say``, ``collect``, ``action``, ``branch``, ``link``,
``call``, ``handoff``, ``end``, ``return``); each has ``run(ctx, step) ->
StepResult``. ``Continue`` moves on at once (to a step, or off the end of a
flow); ``Pause`` waits for the caller, a backend, or nothing more (the call is
over). The executor loop (``ivr/dialog/engine.py``) counts transitions and
trips its breaker; a step module never loops itself. A new step type is one
module here plus its model in ``ivr/dialog/models.py``."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

from ivr.dialog.loader import FlowSet
from ivr.dialog.models import CollectStep, HandoffSpec, Prompt, Step
from ivr.dialog.state import DialogState
from ivr.frames import DialogAction


@dataclass(frozen=True, slots=True)
class Continue:
    """Go on now: to ``step`` of ``flow`` (None: off the end of that flow)."""

    flow: str
    step: str | None


@dataclass(frozen=True, slots=True)
class Pause:
    """Stop here until the next event: the caller's turn, a backend's answer,
    or none (the call ended or went to an agent)."""

    until: Literal["caller", "backend", "ended"]


StepResult = Continue | Pause


class StepContext(Protocol):
    """The executor's helpers a step may use (``ivr.dialog.engine._Run``)."""

    st: DialogState
    fs: FlowSet
    actions: list[DialogAction]

    @property
    def here(self) -> str: ...

    def env(self, extra: dict[str, Any] | None = None) -> dict[str, Any]: ...

    def say(self, prompt: Prompt | None, key: str, extra: dict[str, Any] | None = None,
            interruptible: bool = True) -> None: ...

    def key(self, what: str) -> str: ...

    def describe(self, value: str, language: str) -> str | None: ...

    def listen(self, step: CollectStep, confirm: bool = False, again: bool = False) -> None: ...

    def follow(self, step: Step, flow_id: str | None = None) -> str | None: ...

    def render_args(self, args: dict[str, Any]) -> dict[str, Any]: ...

    def handoff(self, spec: HandoffSpec) -> None: ...

    def finish(self, prompt: Prompt | None, reason: str) -> None: ...
