"""``collect:`` ask and wait for the caller (skipped when the slot is already
filled, unless ``ask_always``). What the caller then says is handled by the
executor's input path (``_Run.on_input``)."""
from __future__ import annotations

from ivr.dialog.models import CollectStep
from ivr.dialog.policy import offer_page
from ivr.dialog.steps.base import Continue, Pause, StepContext, StepResult


def run(ctx: StepContext, step: CollectStep) -> StepResult:
    if not step.ask_always and ctx.st.slots.get(step.collect) is not None:
        return Continue(ctx.here, ctx.follow(step))
    ctx.say(step.prompt, ctx.key("prompt"))
    offer_page(ctx, step)  # a long menu, in a language that offers a few choices at a time
    ctx.listen(step)
    return Pause("caller")
