"""``end:`` say the closing prompt and hang up."""
from __future__ import annotations

from ivr.dialog.models import EndStep
from ivr.dialog.steps.base import Pause, StepContext, StepResult


def run(ctx: StepContext, step: EndStep) -> StepResult:
    ctx.finish(step.prompt, "completed")
    return Pause("ended")
