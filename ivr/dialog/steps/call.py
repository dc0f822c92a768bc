"""``call:`` run another flow as a subroutine, then come back after this step."""
from __future__ import annotations

from ivr.dialog.models import CallStep
from ivr.dialog.steps.base import Continue, StepContext, StepResult


def run(ctx: StepContext, step: CallStep) -> StepResult:
    ctx.st.stack.append({"flow": ctx.here, "step": step.id})
    return Continue(step.call, ctx.fs[step.call].steps[0].id)
