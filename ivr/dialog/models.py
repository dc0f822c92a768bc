"""Flow file models (pydantic v2). ``flows/schema.json`` is generated from
these, so editors and the validator agree on one definition.

A flow is a list of steps, in the spirit of Rasa CALM flows. Each step is one
of: say, collect, action, branch, link, call, handoff, end, return; which one
is decided by the key present (``collect: pin`` is a collect step)."""
from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator

from ivr.dialog.conditions import ConditionError, parse_condition
from ivr.frames import Language

LANGS: tuple[Language, ...] = ("zh-TW", "nan-TW")
SLOT_KINDS = ("intent", "yes_no", "digits", "amount", "date", "taiwan_id", "free_text")
QUEUES = ("T1", "T2", "T3", "TQ")
# The intent vocabulary shared with ivr.nlu (menu intents and global commands).
KNOWN_INTENTS = frozenset({"check_balance", "reset_password", "report_card_loss", "technical_support", "complaint",
                           "talk_to_agent", "agent", "repeat", "main_menu", "lang_zh", "lang_nan", "goodbye"})
STEP_KINDS = ("say", "collect", "action", "branch", "link", "call", "handoff", "end", "return")
_ID = r"^[A-Za-z_][A-Za-z0-9_]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class PromptText(_Strict):
    text: str = Field(description="What is said (a template: {slot} or {slot:amount|date|digits})")
    audio: str | None = Field(None, description="Recorded audio file, relative to the flows directory")


PromptValue = str | PromptText


class Prompt(_Strict):
    """One prompt in each language: plain text, or text plus a recording."""

    zh_TW: PromptValue | None = Field(None, alias="zh-TW")
    nan_TW: PromptValue | None = Field(None, alias="nan-TW")

    def get(self, language: str) -> PromptText | None:
        v = self.zh_TW if language == "zh-TW" else self.nan_TW if language == "nan-TW" else None
        return PromptText(text=v) if isinstance(v, str) else v

    def languages(self) -> set[str]:
        return {lang for lang in LANGS if self.get(lang) is not None}


def _check_condition(v: str | None) -> str | None:
    if v is not None:
        try:
            parse_condition(v)
        except ConditionError as e:
            raise ValueError(str(e)) from None
    return v


class Rule(_Strict):
    """``{if: <condition>, then: <target>}`` or a final ``{else: <target>}``."""

    if_: str | None = Field(None, alias="if")
    then: str | int | None = None
    else_: str | int | None = Field(None, alias="else")

    _c = field_validator("if_")(_check_condition)

    @model_validator(mode="after")
    def _shape(self) -> Rule:
        if self.else_ is not None:
            if self.if_ is not None or self.then is not None:
                raise ValueError("a rule has either 'if' and 'then', or only 'else'")
        elif self.if_ is None or self.then is None:
            raise ValueError("a rule needs both 'if' and 'then' (or only 'else')")
        return self


class HandoffSpec(_Strict):
    queue: Literal["T1", "T2", "T3", "TQ"] = Field(description="T1 general, T2 technical, T3 complaints, TQ quality")
    priority: int | list[Rule] = Field(
        0, description="a number, or rules: [{if: 'verified and balance >= 1000000', then: 8}, {else: 3}]")
    reason: str = Field(description="why the call goes to an agent (shown on the agent desktop)")
    prompt: Prompt | None = Field(None, description="said before the transfer")


class Validation(_Strict):
    regex: str | None = Field(None, description="the value (as text) must match this fully")
    backend: str | None = Field(None, description="a backend that must return ok for the value")
    args: dict[str, Any] = Field(default_factory=dict)
    error: Prompt | None = Field(None, description="said when the value is rejected, before re-asking")

    @field_validator("regex")
    @classmethod
    def _regex(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                re.compile(v)
            except re.error as e:
                raise ValueError(f"bad regex {v!r}: {e}") from None
        return v


class Reentry(_Strict):
    """Confirm by entering the value twice; it is never read back (new PINs)."""

    prompt: Prompt = Field(description="asks for the value a second time, e.g. 請再輸入一次新密碼")
    mismatch: Prompt | None = Field(None, description="said when the two entries differ, before asking from the start")


class EndOfTurn(_Strict):
    """When the caller's turn is over at this step (ivr.dialog.end_of_turn has the defaults per step type)."""

    complete_ms: int | None = Field(
        None, ge=0, le=2000,
        description="pause after which the turn ends once what was heard already completes the answer (the PIN has "
                    "its digits, a clear yes/no, a menu choice above threshold, a date that parses); 0 = never early")
    silence_ms: int | None = Field(None, ge=100, le=5000,
                                   description="pause after which the turn ends whatever was heard")

    @model_validator(mode="after")
    def _order(self) -> EndOfTurn:
        if self.complete_ms and self.complete_ms < 100:
            raise ValueError("complete_ms is 0 (off) or at least 100")
        if self.complete_ms and self.silence_ms and self.complete_ms > self.silence_ms:
            raise ValueError(f"complete_ms {self.complete_ms} is longer than silence_ms {self.silence_ms}")
        return self


class _StepBase(_Strict):
    id: str = Field(pattern=_ID, description="unique within the flow")
    next: str | None = Field(None, description="step id to go to next (default: the following step)")


class SayStep(_StepBase):
    say: Prompt
    interruptible: bool = True


class CollectStep(_StepBase):
    collect: str = Field(pattern=_ID, description="slot name")
    type: Literal["intent", "yes_no", "digits", "amount", "date", "taiwan_id", "free_text"] = "free_text"
    prompt: Prompt
    intents: list[str] = Field(default_factory=list, description="type intent: the intents on offer")
    expected: dict[Literal["zh-TW", "nan-TW"], list[str]] = Field(
        default_factory=dict, description="extra phrases for the recognizer, per language")
    dtmf: dict[str, str | bool] = Field(default_factory=dict, description="key -> value, e.g. {'1': check_balance}")
    length: int | str | None = Field(None, description="digits: 4 or '4..12'")
    min_confidence: float = Field(0.45, ge=0, le=1)
    validation: Validation | None = Field(None, alias="validate")
    confirm: Prompt | None = Field(
        None, description="yes/no question after the value is heard, e.g. '{amount:amount}，對嗎？'")
    confirm_by_reentry: Reentry | None = Field(
        None, description="ask for the value a second time and compare (a mismatch re-asks and counts as a retry); "
                          "the way to confirm a secret step, which is never read back")
    no_input: Prompt | None = None
    no_match: Prompt | None = None
    retries: int | None = Field(None, ge=0, le=10, description="re-asks after no-input/no-match (flow default 2)")
    on_exhausted: str | HandoffSpec | None = Field(None, description="step id or handoff when retries run out")
    end_silence_ms: int | None = Field(None, ge=100, le=5000, description="the same as end_of_turn.silence_ms")
    end_of_turn: EndOfTurn | None = Field(
        None, description="e.g. {complete_ms: 250, silence_ms: 700}; defaults by type (free_text never ends early)")
    no_input_timeout_ms: int | None = Field(None, ge=1000, le=60000)
    ask_always: bool = Field(True, description="false: skip the step if the slot is already filled")
    labels: dict[str, Prompt] = Field(
        default_factory=dict, description="how a keys menu or a read-back names a choice (value -> per-language "
                                          "text); default: the NLU's name for a known intent")
    secret: bool = Field(False, description="a PIN or one-time code: never spoken in a prompt, masked in transcripts, "
                                            "records, logs and reports, left out of the handoff context")
    protective: bool = Field(
        False, description="an irreversible or protective decision (card block, PIN change, payment): only a clear "
                           "voice yes/no or key 1/2 decides; anything else asks again, then asks for keys, then "
                           "hands off to an agent. Needs type yes_no or a confirm prompt; "
                           "on_exhausted must be a handoff")

    @model_validator(mode="after")
    def _end_of_turn(self) -> CollectStep:
        eot = self.end_of_turn
        if eot is not None and eot.complete_ms and self.type == "free_text":
            raise ValueError("end_of_turn.complete_ms: a free_text answer is never complete early (keep the silence)")
        if eot is not None and eot.silence_ms and self.end_silence_ms and eot.silence_ms != self.end_silence_ms:
            raise ValueError(f"end_silence_ms {self.end_silence_ms} and end_of_turn.silence_ms {eot.silence_ms} differ")
        return self

    @model_validator(mode="after")
    def _protective(self) -> CollectStep:
        if self.protective:
            if self.type != "yes_no" and self.confirm is None:
                raise ValueError("protective needs type yes_no or a confirm prompt (the yes that it protects)")
            if isinstance(self.on_exhausted, str):
                raise ValueError("a protective step must end in a handoff, not a step (it never decides on a guess)")
        return self

    @field_validator("dtmf")
    @classmethod
    def _dtmf(cls, v: dict[str, Any]) -> dict[str, Any]:
        for key in v:
            if not re.fullmatch(r"[0-9*#]+", str(key)):
                raise ValueError(f"DTMF key {key!r} must be phone keys (0-9, *, #)")
        return v

    @field_validator("length")
    @classmethod
    def _length(cls, v: int | str | None) -> int | str | None:
        if isinstance(v, str) and not re.fullmatch(r"\d+(\.\.\d+)?", v):
            raise ValueError(f"length {v!r} must be N or 'N..M'")
        return v

    def length_range(self) -> tuple[int, int]:
        if self.length is None:
            return (1, 20)
        if isinstance(self.length, int):
            return (self.length, self.length)
        lo, _, hi = self.length.partition("..")
        return (int(lo), int(hi or lo))


class ActionStep(_StepBase):
    action: str = Field(description="backend name")
    args: dict[str, Any] = Field(default_factory=dict, description="string values are templates: '{id_number}'")
    save: dict[str, str] = Field(default_factory=dict, description="slot: key of the result data")
    verifies: str | None = Field(None, description="on success the caller counts as verified by this method")
    on_failure: str | HandoffSpec | None = Field(None, description="step id or handoff (default: hand off to T1)")


class BranchStep(_StepBase):
    branch: list[Rule] = Field(min_length=1)


class LinkStep(_StepBase):
    link: str = Field(description="flow id to continue in (no return)")


class CallStep(_StepBase):
    call: str = Field(description="flow id to run; when it returns, continue with next")


class HandoffStep(_StepBase):
    handoff: HandoffSpec


class EndStep(_StepBase):
    end: Literal[True] = True
    prompt: Prompt | None = None


class ReturnStep(_StepBase):
    return_: Literal[True] = Field(True, alias="return")


def _step_kind(v: Any) -> str | None:
    if isinstance(v, dict):
        keys = [k for k in STEP_KINDS if k in v]
        return keys[0] if len(keys) == 1 else None
    for k in STEP_KINDS:
        if isinstance(v, globals()[_CLASSES[k]]):
            return k
    return None


_CLASSES = {"say": "SayStep", "collect": "CollectStep", "action": "ActionStep", "branch": "BranchStep",
            "link": "LinkStep", "call": "CallStep", "handoff": "HandoffStep", "end": "EndStep",
            "return": "ReturnStep"}

Step = Annotated[
    Annotated[SayStep, Tag("say")] | Annotated[CollectStep, Tag("collect")] | Annotated[ActionStep, Tag("action")]
    | Annotated[BranchStep, Tag("branch")] | Annotated[LinkStep, Tag("link")] | Annotated[CallStep, Tag("call")]
    | Annotated[HandoffStep, Tag("handoff")] | Annotated[EndStep, Tag("end")] | Annotated[ReturnStep, Tag("return")],
    Discriminator(_step_kind, custom_error_type="step_kind",
                  custom_error_message="a step needs exactly one of: " + ", ".join(STEP_KINDS)),
]


class LanguagePolicy(_Strict):
    """How closed-set steps (menus, yes/no, digits, dates, IDs, amounts) behave in one
    language. Unset fields keep the built-in policy (``DEFAULT_POLICIES``)."""

    keys_after_misses: int | None = Field(
        None, ge=1, le=10, description="after this many misses at a step (no-match, rejected speech, no-input, a "
                                        "'no' to a read-back) the step asks for keys, saying which key does what; "
                                        "null: never")
    menu_size: int | None = Field(
        None, ge=2, le=5, description="an intent step with more keyed choices offers this many at a time "
                                      "(its prompt in this language must not list more keys); more_key pages on")
    more_key: str = Field("8", pattern=r"^[1-9]$", description="the key that offers the next choices of a long menu")
    read_back: bool = Field(
        False, description="a menu choice heard by voice is said back and used only after key 1 or a yes "
                           "(你講的是查餘額，著請揤1)")
    secrets_by_voice: bool = Field(
        True, description="a secret step (PIN, one-time code) takes a spoken answer; false: only keys (a misheard "
                          "PIN would count toward the bank's lockout)")


# Taiwanese callers are served by a small-grammar engine that mishears more often than
# Mandarin's: one miss is enough to go to keys, menus are short, and what was heard
# is confirmed before it routes the call. Mandarin keeps the plain retry behaviour.
DEFAULT_POLICIES: dict[str, LanguagePolicy] = {
    "zh-TW": LanguagePolicy(),
    "nan-TW": LanguagePolicy(keys_after_misses=1, menu_size=3, read_back=True, secrets_by_voice=False),
}


class FlowDefaults(_Strict):
    retries: int = Field(2, ge=0, le=10)
    on_exhausted: str | HandoffSpec | None = None
    no_input: Prompt | None = None
    no_match: Prompt | None = None
    policy: dict[Literal["zh-TW", "nan-TW"], LanguagePolicy] = Field(
        default_factory=dict, description="per-language dialog policy, over the built-in one (nan-TW: keys after "
                                          "1 miss, 3 choices at a time, menu choices read back; zh-TW: none)")

    def policy_for(self, language: str) -> LanguagePolicy:
        base = DEFAULT_POLICIES.get(language, LanguagePolicy())
        own = next((v for k, v in self.policy.items() if k == language), None)
        return base.model_copy(update=own.model_dump(exclude_unset=True)) if own is not None else base


class Flow(_Strict):
    flow: str = Field(pattern=_ID, description="flow id, used by link/call")
    description: str = ""
    languages: list[Literal["zh-TW", "nan-TW"]] = Field(default_factory=lambda: list(LANGS))
    inputs: list[str] = Field(default_factory=list, description="slots this flow expects callers to have filled")
    defaults: FlowDefaults = Field(default_factory=FlowDefaults)
    steps: list[Step] = Field(min_length=1)

    def step_index(self) -> dict[str, int]:
        return {s.id: i for i, s in enumerate(self.steps)}


def step_kind(step: BaseModel) -> str:
    return next(k for k, cls in _CLASSES.items() if type(step).__name__ == cls)


def flow_json_schema() -> dict[str, Any]:
    schema = Flow.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "ivr flow"
    return schema
