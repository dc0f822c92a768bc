"""``link:`` continue in another flow, for good (no return)."""
from __future__ import annotations

from ivr.dialog.models import LinkStep
from ivr.dialog.steps.base import Continue, StepContext, StepResult


def run(ctx: StepContext, step: LinkStep) -> StepResult:
    return Continue(step.link, ctx.fs[step.link].steps[0].id)
