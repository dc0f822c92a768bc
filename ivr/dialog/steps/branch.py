"""``branch:`` the first rule whose condition holds (or ``else``) picks the next step."""
from __future__ import annotations

from ivr.dialog.conditions import evaluate
from ivr.dialog.models import BranchStep
from ivr.dialog.steps.base import Continue, StepContext, StepResult


def run(ctx: StepContext, step: BranchStep) -> StepResult:
    env = ctx.env()
    for rule in step.branch:
        if rule.else_ is not None:
            return Continue(ctx.here, str(rule.else_))
        if rule.if_ is not None and evaluate(rule.if_, env):
            return Continue(ctx.here, str(rule.then))
    return Continue(ctx.here, ctx.follow(step))
