"""One module per flow step type, each answering Continue or Pause."""
from __future__ import annotations

import typing

from ivr.dialog.models import BranchStep, CollectStep, Step
from ivr.dialog.state import DialogState
from ivr.dialog.steps import RUNNERS, Continue, Pause
from ivr.dialog.steps import branch as branch_step
from ivr.dialog.steps import collect as collect_step


def test_every_step_model_has_a_module() -> None:
    union = typing.get_args(Step)[0]  # Annotated[A | B | ..., Discriminator]
    models = {typing.get_args(member)[0] for member in typing.get_args(union)}  # each Annotated[X, Tag]
    assert len(models) == 9 and models == set(RUNNERS)


class Ctx:
    """The smallest StepContext: records what a step asked for."""

    def __init__(self, slots: dict) -> None:
        self.st = DialogState(call_id="c", flow="f", step="s", slots=slots)
        self.fs = None
        self.actions: list = []
        self.said: list[str] = []
        self.listened: list[str] = []

    here = "f"

    def env(self, extra=None):
        return dict(self.st.slots)

    def say(self, prompt, key, extra=None, interruptible=True):
        self.said.append(key)

    def key(self, what):
        return f"f.s.{what}"

    def listen(self, step, confirm=False, again=False):
        self.listened.append(step.collect)

    def follow(self, step, flow_id=None):
        return "after"


def test_collect_pauses_for_the_caller_or_skips_a_filled_slot() -> None:
    step = CollectStep.model_validate({"id": "s", "collect": "pin", "type": "digits", "ask_always": False,
                                       "prompt": {"zh-TW": "請輸入"}})
    ctx = Ctx({})
    assert collect_step.run(ctx, step) == Pause("caller")
    assert ctx.said == ["f.s.prompt"] and ctx.listened == ["pin"]
    assert collect_step.run(Ctx({"pin": "1234"}), step) == Continue("f", "after")


def test_branch_takes_the_first_true_rule() -> None:
    step = BranchStep.model_validate({"id": "s", "branch": [{"if": "verified", "then": "yes"}, {"else": "no"}]})
    assert branch_step.run(Ctx({"verified": True}), step) == Continue("f", "yes")
    assert branch_step.run(Ctx({"verified": False}), step) == Continue("f", "no")
