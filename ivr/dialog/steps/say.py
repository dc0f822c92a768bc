"""``say:`` a prompt, then the next step."""
from __future__ import annotations

from ivr.dialog.models import SayStep
from ivr.dialog.steps.base import Continue, StepContext, StepResult


def run(ctx: StepContext, step: SayStep) -> StepResult:
    ctx.say(step.say, ctx.key("say"), interruptible=step.interruptible)
    return Continue(ctx.here, ctx.follow(step))
