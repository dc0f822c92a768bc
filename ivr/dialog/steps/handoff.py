"""``handoff:`` to a live-agent queue with the call's context; the dialog ends."""
from __future__ import annotations

from ivr.dialog.models import HandoffStep
from ivr.dialog.steps.base import Pause, StepContext, StepResult


def run(ctx: StepContext, step: HandoffStep) -> StepResult:
    ctx.handoff(step.handoff)
    return Pause("ended")
