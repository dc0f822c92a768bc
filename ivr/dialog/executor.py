"""The executor of one dialog step: ``_Run`` holds a copied state and the
actions produced so far, and carries one event through the flow (enter a
step, follow transitions, take input, call back the NLU) until the flow waits
for the caller or a backend. ``Dialog.step`` (engine.py) creates one per event.
A breaker (``StepLimit``) stops a flow that keeps moving without waiting."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, cast

from ivr.dialog import closed_set
from ivr.dialog.conditions import evaluate
from ivr.dialog.end_of_turn import DEFAULTS as TURN_END_DEFAULTS
from ivr.dialog.end_of_turn import turn_end
from ivr.dialog.extract import extract_value
from ivr.dialog.loader import FlowSet
from ivr.dialog.models import (
    ActionStep,
    CollectStep,
    Flow,
    HandoffSpec,
    Prompt,
    Step,
)
from ivr.dialog.policy import BUILTIN as POLICY_PROMPTS
from ivr.dialog.policy import (
    ask_keys,
    keys_due,
    next_page,
    offer_page,
    read_back,
    read_back_due,
    say_builtin,
    voice_refused,
)
from ivr.dialog.protect import exhausted as protective_exhausted
from ivr.dialog.protect import is_protective_turn, offer_confirmation, on_protective, question
from ivr.dialog.reentry import ask_again, on_reentry
from ivr.dialog.state import DialogState
from ivr.dialog.steps import Pause, run_step
from ivr.frames import (
    ActionResult,
    CallBackend,
    DialogAction,
    Hangup,
    Language,
    Listen,
    NoInput,
    Say,
    Transfer,
    UserInput,
)
from ivr.log import get_logger

if TYPE_CHECKING:
    from ivr.dialog.engine import Dialog

log = get_logger(__name__)

# Said when a flow gives no prompt of its own for these moments.
BUILTIN_PROMPTS = {
    "no_input": Prompt.model_validate({"zh-TW": "不好意思，沒有聽到您的聲音。", "nan-TW": "歹勢，無聽著你的聲。"}),
    "no_match": Prompt.model_validate({"zh-TW": "不好意思，我沒有聽懂。", "nan-TW": "歹勢，我無聽有。"}),
    "transfer": Prompt.model_validate({"zh-TW": "請稍候，為您轉接專人服務。", "nan-TW": "請小等咧，共你轉專人服務。"}),
    "error": Prompt.model_validate({"zh-TW": "系統忙碌中，為您轉接專人服務。", "nan-TW": "系統無閒，共你轉專人服務。"}),
    "goodbye": Prompt.model_validate({"zh-TW": "感謝您的來電，再見。", "nan-TW": "多謝你敲電話來，再會。"}),
    **POLICY_PROMPTS,  # a step switching to keys (ivr/dialog/policy.py)
}
END_SILENCE_MS = {kind: ends.silence_ms for kind, ends in TURN_END_DEFAULTS.items()}
DTMF_DIGITS = {"yes_no": 1, "intent": 1, "taiwan_id": 11, "date": 8, "amount": 12, "free_text": 1}
# DTMF keys that mean a global command unless the step gives them a meaning
DTMF_COMMANDS = {"0": "agent", "*": "repeat", "#": "main_menu"}
LANG_COMMANDS = {"lang_zh": "zh-TW", "lang_nan": "nan-TW"}
# The intent an agent request stands for: what the agent's screen pop shows
# when asking for a person is the caller's reason for calling.
AGENT_INTENT = "talk_to_agent"


_SILENT = Prompt()  # a miss whose words were already said
_YES_NO = CollectStep.model_validate({"id": "confirm", "collect": "confirm", "type": "yes_no", "prompt": {}})


class StepLimit(Exception):
    pass



class _Run:
    """One event's worth of execution over one state (never shared)."""

    def __init__(self, dialog: Dialog, fs: FlowSet, st: DialogState, actions: list[DialogAction]) -> None:
        self.d, self.fs, self.st, self.actions = dialog, fs, st, actions
        self.count = 0
        self.said: list[Say] = []

    # ------------------------------------------------------------- helpers
    def guard(self, fn: Any) -> None:
        try:
            fn()
        except StepLimit:
            self.actions[:] = [a for a in self.actions if isinstance(a, Say)]
            self.st.stack.clear()
            self.handoff(HandoffSpec(queue="T1", reason="step_limit", prompt=BUILTIN_PROMPTS["error"]))
            log.error("step limit hit at %s/%s", self.st.flow, self.st.step, extra={"call_id": self.st.call_id})
        if self.said:
            self.st.last_say = [{"key": s.key, "language": s.language, "text": s.text, "audio": s.audio,
                                 "interruptible": s.interruptible} for s in self.said]

    @property
    def here(self) -> str:
        """The current flow id (set from the call's first step on)."""
        assert self.st.flow is not None, "no current flow before the first step"
        return self.st.flow

    @property
    def flow(self) -> Flow:
        return self.fs[self.here]

    def cur(self) -> Step:
        assert self.st.step is not None, "no current step before the first step"
        return self.fs.step(self.here, self.st.step)

    def env(self, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        st = self.st
        env = dict(st.slots)
        env.update(intent=st.intent, verified=st.verified, verify_method=st.verify_method, language=st.language,
                   caller=st.caller, called=st.called, call_id=st.call_id, error=st.last_error)
        env.update(extra or {})
        return env

    def say(self, prompt: Prompt | None, key: str, extra: dict[str, Any] | None = None,
            interruptible: bool = True) -> None:
        if prompt is None:
            return
        lang = self.st.language
        own = prompt.get(lang)
        p = own or prompt.get("zh-TW") or prompt.get("nan-TW")
        if p is None:
            return
        # a recording only stands in for its own language
        audio = str(self.fs.base_dir / own.audio) if own is not None and own.audio else None
        # a secret slot (a PIN, a code) is never rendered into anything said
        text = self.d.renderer.render(p.text, self.env(extra), lang, hidden=self.st.secret_slots)
        s = Say(key=key, language=lang, text=text, audio=audio, interruptible=interruptible)
        self.actions.append(s)
        self.said.append(s)

    def key(self, what: str) -> str:
        return f"{self.st.flow}.{self.st.step}.{what}"

    def describe(self, value: str, language: str) -> str | None:
        """The NLU's name of an intent (查餘額), for keys menus and read-backs."""
        try:
            return self.d.nlu.describe(value, language) if hasattr(self.d.nlu, "describe") else None
        except Exception:  # an unknown name: the policy falls back to its own labels or none
            return None

    def listen(self, step: CollectStep, confirm: bool = False, again: bool = False) -> None:
        lang = self.st.language
        kind = "yes_no" if confirm else step.type
        expected: list[str] = []
        if not confirm:
            expected += step.expected.get(cast(Language, lang), [])
        try:
            what = step.intents if kind == "intent" else kind
            expected += list(self.d.nlu.expected_phrases(what, lang) or ())
        except Exception:  # hints are an optimisation; an NLU without them still works
            pass
        if kind == "digits":
            digits = step.length_range()[1]
        else:
            digits = DTMF_DIGITS.get(kind, 1)
        ends = turn_end(step, kind)
        self.actions.append(Listen(
            slot=step.collect, kind=kind, expected=tuple(dict.fromkeys(expected)), language=lang,
            dtmf_max_digits=digits, end_silence_ms=ends.silence_ms, complete_ms=ends.complete_ms,
            no_input_timeout_ms=step.no_input_timeout_ms or 6000, secret=step.secret and not confirm))
        if step.secret and step.collect not in self.st.secret_slots:  # before any value of it exists
            self.st.secret_slots.append(step.collect)
        self.st.waiting = "confirm" if confirm else "reenter" if again else "input"

    # ---------------------------------------------------------- movement
    def enter(self, flow_id: str, step_id: str | None) -> None:
        st = self.st
        while True:
            if step_id is None:  # ran off the end of a flow: return to the caller flow, or finish
                if st.stack:
                    ret = st.stack.pop()
                    flow_id, step_id = ret["flow"], self.follow(self.fs.step(ret["flow"], ret["step"]), ret["flow"])
                    continue
                self.finish(None, "completed")
                return
            self.count += 1
            st.transitions += 1
            if self.count > self.d.max_transitions:
                raise StepLimit()
            st.flow, st.step, st.waiting = flow_id, step_id, None
            st.no_input = st.no_match = st.unsure = 0
            st.pending = None
            st.keys_only, st.menu_page = False, 0
            st.path.append(f"{flow_id}/{step_id}")
            result = run_step(self, self.fs.step(flow_id, step_id))
            if isinstance(result, Pause):
                return  # waiting for the caller or a backend, or the call is over
            flow_id, step_id = result.flow, result.step

    def follow(self, step: Step, flow_id: str | None = None) -> str | None:
        flow = self.fs[flow_id or self.here]
        if step.next:
            return step.next
        i = flow.step_index()[step.id]
        return flow.steps[i + 1].id if i + 1 < len(flow.steps) else None

    def go(self, target: str | None) -> None:
        self.enter(self.here, target)

    def render_args(self, args: dict[str, Any]) -> dict[str, Any]:
        return self.d.renderer.render_args(args, self.env(), self.st.language)

    def finish(self, prompt: Prompt | None, reason: str) -> None:
        self.say(prompt, self.key("end"), interruptible=False)
        self.actions.append(Hangup(reason=reason))
        self.st.ended, self.st.end_reason, self.st.waiting = True, reason, None

    def handoff(self, spec: HandoffSpec) -> None:
        st = self.st
        env = self.env()
        priority = 0
        if isinstance(spec.priority, int):
            priority = spec.priority
        else:
            for rule in spec.priority:
                if rule.else_ is not None or (rule.if_ is not None and evaluate(rule.if_, env)):
                    target = rule.else_ if rule.else_ is not None else rule.then
                    assert target is not None  # a rule has 'then' with 'if' (models.Rule)
                    priority = int(target)
                    break
        self.say(spec.prompt or BUILTIN_PROMPTS["transfer"], self.key("handoff"), interruptible=False)
        st.handoff_reason = spec.reason
        note = f"intent={st.intent or '-'} verified={st.verify_method if st.verified else 'no'} at={st.flow}/{st.step}"
        self.actions.append(Transfer(queue=spec.queue, priority=priority, reason=spec.reason, note=note))
        st.ended, st.end_reason, st.waiting = True, "transferred", None

    # ------------------------------------------------------------ events
    def _command(self, step: CollectStep, ev: UserInput) -> str | None:
        keys = ev.dtmf
        if keys:
            if len(keys) == 1 and keys in DTMF_COMMANDS and keys not in step.dtmf:
                lo = step.length_range()[0] if step.type == "digits" else 2
                if not (step.type == "digits" and lo <= 1 and keys.isdigit()):
                    return DTMF_COMMANDS[keys]
            return None
        if ev.text.strip():
            try:
                return self.d.nlu.commands(ev.text, self.st.language)
            except Exception:  # a broken command matcher must not drop the turn
                log.exception("nlu.commands failed")
        return None

    def _accepts(self, step: CollectStep, value: str) -> bool:
        return value in step.intents or value in step.dtmf.values()

    def on_input(self, ev: UserInput) -> None:
        st = self.st
        turn: dict[str, Any] = {"t": ev.timestamp, "step": f"{st.flow}/{st.step}"}
        step = self.cur() if st.flow and st.step else None
        hide = isinstance(step, CollectStep) and step.secret and st.waiting in ("input", "reenter", "validate")
        if ev.text:
            turn["text"] = "*" * len(ev.text) if hide else ev.text
        if ev.dtmf:
            turn["dtmf"] = "*" * len(ev.dtmf) if hide else ev.dtmf
        st.turns.append(turn)
        if st.waiting not in ("input", "confirm", "reenter"):
            return  # talking over a backend call: nothing to do with it
        st.by_voice = bool(ev.text.strip()) and not ev.dtmf
        assert isinstance(step, CollectStep)  # only a collect step waits for the caller
        cmd = self._command(step, ev)
        if cmd:
            turn["command"] = cmd
            if closed_set.unsure_command(self, step, ev, cmd, turn):
                return None  # a switch of language / menu / to an agent is not made on a guess
        if cmd in LANG_COMMANDS:
            choice = st.waiting == "input" and step.type == "intent" and self._accepts(step, cmd)
            if choice and closed_set.applies(self, step, ev) and not closed_set.screen_language(self, step, ev, cmd,
                                                                                                turn):
                return None  # "請問您是要用台語嗎？" (closed_set.py)
            st.language = LANG_COMMANDS[cmd]
            if choice:
                return self.accept(step, cmd, turn)
            return self.reask(step, None)
        if cmd and not (st.waiting == "input" and self._accepts(step, cmd)):
            if cmd == "agent":
                self._note_agent_request(step, turn)
            return self.command(cmd, step)
        if ev.dtmf and next_page(self, step, ev.dtmf):  # a long menu's "other choices" key
            return None
        if st.waiting == "reenter":
            return on_reentry(self, step, ev, turn)
        if is_protective_turn(step, st.waiting):  # never decided on a guess: see ivr/dialog/protect.py
            return on_protective(self, step, ev, turn)
        if st.waiting == "confirm":
            try:
                if closed_set.applies(self, _YES_NO, ev):  # a misheard yes must not act (closed_set.py)
                    value, asked = closed_set.confirm_answer(self, step, ev, turn)
                    if asked:  # heard, but not surely: said back, and the question asked again
                        return None
                else:
                    value, _ = extract_value(_YES_NO, ev.text, ev.dtmf, st.language, self.d.nlu)
            except Exception:  # see below: a no-match
                log.exception("yes/no extraction failed", extra={"call_id": st.call_id})
                value = None
            if value is True:
                return self.accept(step, st.pending, turn, confirmed=True)
            if value is False:
                return self.nomatch(step, retry_prompt=False)
            return self.nomatch(step)
        if voice_refused(self, step):  # a PIN said aloud where the language takes secrets by keys only
            say_builtin(self, "secret_keys")
            return self.nomatch(step, error=_SILENT)
        if closed_set.applies(self, step, ev):  # a menu or a plain yes/no said aloud: accept, confirm or reject
            go_on, value = closed_set.screen(self, step, ev, turn)
            if not go_on:
                return None
            return self._use(step, value, turn)
        try:
            value, conf = extract_value(step, ev.text, ev.dtmf, st.language, self.d.nlu, ev.alternatives)
        except Exception:  # an NLU failure on one turn is a no-match, not a dropped call
            log.exception("extracting %s failed at %s/%s", step.type, st.flow, st.step, extra={"call_id": st.call_id})
            value, conf = None, 0.0
        turn["confidence"] = round(conf, 3)
        if value is None:
            if offer_confirmation(self, step, ev, turn):  # "請問您是要掛失卡片嗎？"
                return None
            return self.nomatch(step)
        self._use(step, value, turn)

    def _use(self, step: CollectStep, value: Any, turn: dict[str, Any]) -> None:
        """A value read from the turn: checked by the step's validation, then accepted."""
        st = self.st
        v = step.validation
        if v and v.regex and not re.fullmatch(v.regex, str(value)):
            return self.nomatch(step, error=v.error)
        if v and v.backend:
            st.pending = value
            args = self.d.renderer.render_args(dict(v.args), self.env({step.collect: value}), st.language)
            if not args:  # no args given: the backend gets the heard value alone
                args = {"value": value}
            self.actions.append(CallBackend(name=v.backend, args=args))
            st.waiting = "validate"
            return None
        self.accept(step, value, turn)

    def _note_agent_request(self, step: CollectStep, turn: dict[str, Any]) -> None:
        """At a menu that offers an agent, or before the caller chose anything,
        asking for a person is the caller's intent; anywhere else it stays what
        the caller was doing (check_balance…) and only the handoff reason says
        they asked for an agent."""
        st = self.st
        at_menu = st.waiting == "input" and step.type == "intent" and self._accepts(step, AGENT_INTENT)
        if at_menu or not st.intent:
            st.intent = AGENT_INTENT
            turn["intent"] = AGENT_INTENT

    def accept(self, step: CollectStep, value: Any, turn: dict[str, Any] | None = None,
               confirmed: bool = False) -> None:
        st = self.st
        if step.confirm_by_reentry and not confirmed:
            return ask_again(self, step, value)
        if not confirmed and read_back_due(self, step, value):  # 你講的是查餘額，著請揤1
            turn = turn if turn is not None else {}
            turn["read_back"] = value
            return read_back(self, step, value)
        if step.confirm and not confirmed:
            st.pending = value
            self.say(step.confirm, self.key("confirm"), {step.collect: value})
            self.listen(step, confirm=True)
            return
        st.slots[step.collect] = value
        if step.secret and step.collect not in st.secret_slots:
            st.secret_slots.append(step.collect)
        if value in LANG_COMMANDS:  # "press 1 for Mandarin" answers with the language itself
            st.language = LANG_COMMANDS[value]
        if turn is not None and step.type == "intent":
            turn["intent"] = value
        if step.type == "intent" and isinstance(value, str) and value not in LANG_COMMANDS:
            st.intent = value
        st.pending = None
        self.go(self.follow(step))

    def command(self, cmd: str, step: CollectStep) -> None:
        st = self.st
        if cmd == "repeat":
            for s in st.last_say:
                self.actions.append(Say(**s))
            self.said = [Say(**s) for s in st.last_say]
            self.listen(step, confirm=st.waiting == "confirm", again=st.waiting == "reenter")
        elif cmd == "main_menu" and self.d.menu[0] in self.fs:
            st.stack.clear()
            flow_id, step_id = self.d.menu
            if step_id not in self.fs[flow_id].step_index():
                step_id = self.fs[flow_id].steps[0].id
            self.enter(flow_id, step_id)
        elif cmd == "agent":
            st.handoff_reason = "caller_request"
            if self.d.agent_flow in self.fs:
                st.stack.clear()
                self.enter(self.d.agent_flow, self.fs[self.d.agent_flow].steps[0].id)
            else:
                self.handoff(HandoffSpec(queue="T1", reason="caller_request"))
        elif cmd == "goodbye":
            self.finish(BUILTIN_PROMPTS["goodbye"], "caller_goodbye")
        else:
            self.nomatch(step)

    def reask(self, step: CollectStep, before: Prompt | None, key: str = "reprompt") -> None:
        self.say(before, self.key(key))
        if keys_due(self, step):  # the language's policy: after N misses, keys
            return ask_keys(self, step)
        if self.st.waiting == "confirm":
            self.say(question(self, step, self.st.pending), self.key("confirm"), {step.collect: self.st.pending})
            self.listen(step, confirm=True)
        elif self.st.waiting == "reenter" and step.confirm_by_reentry:
            self.say(step.confirm_by_reentry.prompt, self.key("reenter"))
            self.listen(step, again=True)
        else:
            self.say(step.prompt, self.key("prompt"))
            offer_page(self, step)
            self.listen(step)

    def _retries(self, step: CollectStep) -> int:
        return step.retries if step.retries is not None else self.flow.defaults.retries

    def exhausted(self, step: CollectStep, why: str) -> None:
        if step.protective:
            return protective_exhausted(self, step, why)
        if closed_set.keys_round_due(self, step):  # unsure answers: keys once, then on_exhausted
            return ask_keys(self, step)
        target = step.on_exhausted or self.flow.defaults.on_exhausted
        self.st.last_error = why
        if isinstance(target, str):
            self.go(target)
        else:
            self.handoff(target or HandoffSpec(queue="T1", reason=f"{why}:{self.st.flow}/{step.id}"))

    def nomatch(self, step: CollectStep, error: Prompt | None = None, retry_prompt: bool = True) -> None:
        st = self.st
        st.no_match += 1
        if st.no_input + st.no_match > self._retries(step):
            return self.exhausted(step, "no_match")
        if not retry_prompt:  # the caller said "no" to a confirmation: ask for the value again
            st.waiting = "input"
            st.pending = None
            if keys_due(self, step):
                return ask_keys(self, step)
            self.say(step.prompt, self.key("prompt"))
            offer_page(self, step)
            return self.listen(step)
        prompt = error or step.no_match or self.flow.defaults.no_match or BUILTIN_PROMPTS["no_match"]
        self.reask(step, prompt, "no_match")

    def on_no_input(self, ev: NoInput) -> None:
        st = self.st
        st.turns.append({"t": ev.timestamp, "step": f"{st.flow}/{st.step}", "no_input": True})
        if st.waiting not in ("input", "confirm", "reenter"):
            return
        step = self.cur()
        assert isinstance(step, CollectStep)  # only a collect step waits for the caller
        st.no_input += 1
        if st.no_input + st.no_match > self._retries(step):
            return self.exhausted(step, "no_input")
        self.reask(step, step.no_input or self.flow.defaults.no_input or BUILTIN_PROMPTS["no_input"], "no_input")

    def on_result(self, ev: ActionResult) -> None:
        st = self.st
        step = self.cur()
        if st.waiting == "validate" and isinstance(step, CollectStep) and step.validation \
                and ev.name == step.validation.backend:
            value, st.pending = st.pending, None
            st.waiting = "input"
            if ev.ok:
                return self.accept(step, value)
            st.last_error = ev.error
            return self.nomatch(step, error=step.validation.error)
        if st.waiting != "backend" or not isinstance(step, ActionStep) or ev.name != step.action:
            log.warning("unexpected result for %s", ev.name, extra={"call_id": st.call_id})
            return
        st.waiting = None
        if ev.ok:
            st.last_error = ""
            for slot, key in step.save.items():
                st.slots[slot] = ev.data.get(key)
            if step.verifies:
                st.verified, st.verify_method = True, step.verifies
            return self.go(self.follow(step))
        st.last_error = ev.error or "failed"
        target = step.on_failure
        if isinstance(target, str):
            return self.go(target)
        self.handoff(target or HandoffSpec(queue="T1", reason=f"backend_failure:{step.action}",
                                           prompt=BUILTIN_PROMPTS["error"]))
