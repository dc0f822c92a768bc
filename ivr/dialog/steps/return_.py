"""``return:`` leave this flow now (back to the calling flow, or finish)."""
from __future__ import annotations

from ivr.dialog.models import ReturnStep
from ivr.dialog.steps.base import Continue, StepContext, StepResult


def run(ctx: StepContext, step: ReturnStep) -> StepResult:
    return Continue(ctx.here, None)
