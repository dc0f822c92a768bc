"""Flow step types, one module each (see ``base.py``): ``run_step(ctx, step)``
dispatches on the step's model class."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ivr.dialog.models import (
    ActionStep,
    BranchStep,
    CallStep,
    CollectStep,
    EndStep,
    HandoffStep,
    LinkStep,
    ReturnStep,
    SayStep,
    Step,
)
from ivr.dialog.steps import action, branch, call, collect, end, handoff, link, return_, say
from ivr.dialog.steps.base import Continue, Pause, StepContext, StepResult

RUNNERS: dict[type, Callable[[StepContext, Any], StepResult]] = {
    SayStep: say.run, CollectStep: collect.run, ActionStep: action.run, BranchStep: branch.run,
    LinkStep: link.run, CallStep: call.run, HandoffStep: handoff.run, EndStep: end.run, ReturnStep: return_.run,
}


def run_step(ctx: StepContext, step: Step) -> StepResult:
    runner = RUNNERS.get(type(step))
    if runner is None:
        raise TypeError(f"unknown step {step!r}")
    return runner(ctx, step)


__all__ = ["RUNNERS", "Continue", "Pause", "StepContext", "StepResult", "run_step"]
