"""``action:`` call a backend; its ``ActionResult`` comes back as the next event."""
from __future__ import annotations

from ivr.dialog.models import ActionStep
from ivr.dialog.steps.base import Pause, StepContext, StepResult
from ivr.frames import CallBackend


def run(ctx: StepContext, step: ActionStep) -> StepResult:
    ctx.actions.append(CallBackend(name=step.action, args=ctx.render_args(dict(step.args))))
    ctx.st.waiting = "backend"
    return Pause("backend")
