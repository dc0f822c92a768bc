"""Confirming a value by entering it twice (``confirm_by_reentry``), the way
a new PIN is confirmed: it is never read back. The first entry waits in
``state.pending``; the second must equal it, else the caller hears the
mismatch prompt and starts over, and a mismatch counts as a retry (so the
step's ``on_exhausted`` — usually an agent — ends a caller who cannot
match)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ivr.dialog.extract import extract_value
from ivr.dialog.models import CollectStep, Prompt
from ivr.frames import UserInput
from ivr.log import get_logger

if TYPE_CHECKING:
    from ivr.dialog.engine import _Run

log = get_logger(__name__)

MISMATCH = Prompt.model_validate({"zh-TW": "兩次輸入的不一樣，請重新輸入。", "nan-TW": "兩擺揤的無仝款，請重揤。"})


def ask_again(run: _Run, step: CollectStep, value: Any) -> None:
    """The first entry is heard (and validated): ask for it once more."""
    assert step.confirm_by_reentry is not None
    run.st.pending = value
    run.say(step.confirm_by_reentry.prompt, run.key("reenter"))
    run.listen(step, again=True)


def on_reentry(run: _Run, step: CollectStep, ev: UserInput, turn: dict[str, Any]) -> None:
    st = run.st
    try:
        value, _ = extract_value(step, ev.text, ev.dtmf, st.language, run.d.nlu, ev.alternatives)
    except Exception:  # an NLU failure is a mismatch, not a dropped call
        log.exception("extracting %s failed at %s/%s", step.type, st.flow, st.step, extra={"call_id": st.call_id})
        value = None
    if value is not None and value == st.pending:
        return run.accept(step, value, turn, confirmed=True)
    st.pending = None
    st.no_match += 1
    if st.no_input + st.no_match > run._retries(step):
        return run.exhausted(step, "reentry_mismatch")
    assert step.confirm_by_reentry is not None
    run.say(step.confirm_by_reentry.mismatch or MISMATCH, run.key("mismatch"))
    run.say(step.prompt, run.key("prompt"))
    run.listen(step)
