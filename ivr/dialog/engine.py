"""The flow executor: ``Dialog.step(state, event) -> (state, actions)``.

Pure: the input state is never modified, nothing is awaited, no I/O happens;
backend calls are actions whose answers come back as ``ActionResult`` events.
A breaker stops a flow that keeps moving without waiting for the caller."""
from __future__ import annotations

from ivr.dialog.end_of_turn import answer_complete
from ivr.dialog.executor import BUILTIN_PROMPTS, DTMF_COMMANDS, DTMF_DIGITS, END_SILENCE_MS, StepLimit, _Run
from ivr.dialog.loader import FlowSet
from ivr.dialog.models import HandoffSpec
from ivr.dialog.render import Renderer
from ivr.dialog.seams import FlowSource, Understander
from ivr.dialog.state import DialogState
from ivr.frames import ActionResult, CallEnded, CallStarted, DialogAction, DialogEvent, NoInput, UserInput
from ivr.log import get_logger

log = get_logger(__name__)

__all__ = ["BUILTIN_PROMPTS", "DTMF_COMMANDS", "DTMF_DIGITS", "END_SILENCE_MS", "Dialog", "StepLimit", "_Run"]


class Dialog:
    """Runs flows for many calls; holds no per-call data (that is the state)."""

    def __init__(self, flows: FlowSource, nlu: Understander, *, start: str = "main",
                 menu: tuple[str, str] = ("menu", "menu"), agent_flow: str = "agent",
                 max_transitions: int = 50) -> None:
        self.store = flows  # a FlowSet, or a FlowStore (hot reload)
        self.nlu = nlu
        self.start = start
        self.menu = menu
        self.agent_flow = agent_flow
        self.max_transitions = max_transitions
        self.renderer = Renderer()

    # ------------------------------------------------------------------ flows
    def _current(self) -> FlowSet:
        return self.store.current()

    def _flows_for(self, state: DialogState) -> FlowSet:
        fs = self.store.get(state.flow_version)
        if fs is not None:
            return fs
        current = self._current()
        if current.version != state.flow_version:
            log.warning("flow version %s gone; call continues on %s", state.flow_version, current.version,
                        extra={"call_id": state.call_id})
        return current

    # ------------------------------------------------------------------ API
    def answer_complete(self, state: DialogState, text: str) -> bool:
        """Does ``text`` already complete the answer the call is waiting for?
        (The session's early end of turn; see ivr.dialog.end_of_turn.)"""
        return answer_complete(self._flows_for(state), state, self.nlu, text)

    def new_state(self, event: CallStarted) -> DialogState:
        return DialogState(call_id=event.call_id, caller=event.caller, called=event.called,
                           language=event.language if event.language in ("zh-TW", "nan-TW") else "zh-TW")

    def step(self, state: DialogState | None, event: DialogEvent) -> tuple[DialogState, list[DialogAction]]:
        st = state.copy() if state is not None else None
        actions: list[DialogAction] = []
        if isinstance(event, CallStarted):
            st = self.new_state(event)
            fs = self._current()
            st.flow_version = fs.version
            run = _Run(self, fs, st, actions)
            run.guard(lambda: run.enter(self.start, fs[self.start].steps[0].id))
            return st, actions
        if st is None:
            raise ValueError(f"{type(event).__name__} before CallStarted")
        if st.ended:
            return st, actions
        if isinstance(event, CallEnded):
            st.ended, st.end_reason = True, event.reason
            st.waiting = None
            return st, actions
        fs = self._flows_for(st)
        run = _Run(self, fs, st, actions)
        if st.flow is None or st.step is None or st.flow not in fs or st.step not in fs[st.flow].step_index():
            # a restarted worker whose flows changed under the call: the agent takes over
            run.handoff(HandoffSpec(queue="T1", reason="flow_changed", prompt=BUILTIN_PROMPTS["error"]))
            return st, actions
        if isinstance(event, UserInput):
            run.guard(lambda: run.on_input(event))
        elif isinstance(event, NoInput):
            run.guard(lambda: run.on_no_input(event))
        elif isinstance(event, ActionResult):
            run.guard(lambda: run.on_result(event))
        else:
            raise TypeError(f"Dialog.step: unknown event {type(event).__name__}")
        return st, actions


