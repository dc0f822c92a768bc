"""What a scenario file holds: a recorded (or synthetic) caller, turn by turn,
and what the bot is expected to do in answer.

A turn is exactly one of: caller audio (a file, optionally a [start, end]
segment), DTMF keys (in-band tones or out-of-band events), typed text injected
as if recognized, silence, or a hang-up. Expectations sit on the turn they
follow and on the whole call."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ivr.frames import LANGUAGES

OUTCOMES = ("self_served", "handed_off", "abandoned", "failed")  # as ivr.session records them
QUEUES = ("T1", "T2", "T3", "TQ")
# Values only known during the call, typed by the caller from elsewhere:
# {sms_code} is the one-time code the demo bank just "texted" to the caller.
DTMF_VARIABLES = ("sms_code",)
_VAR = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TurnExpect(_Strict):
    """Checked against the call record's turn that this caller turn produced."""

    transcript_contains: str | list[str] | None = None
    reference: str | None = Field(None, description="what the caller really said, for CER")
    cer_below: float | None = Field(None, gt=0, le=1)
    intent: str | None = None
    command: str | None = Field(
        None, description="global command heard: agent, repeat, main_menu, lang_zh, lang_nan, goodbye")
    slots: dict[str, object] | None = None
    prompt: str | list[str] | None = Field(None, description="prompt key(s) the bot played in answer")
    no_input: bool | None = None
    barged_in: bool | None = None

    @model_validator(mode="after")
    def _cer_needs_reference(self) -> TurnExpect:
        if self.cer_below is not None and not self.reference:
            raise ValueError("cer_below needs a reference transcript")
        return self


class HandoffExpect(_Strict):
    queue: Literal["T1", "T2", "T3", "TQ"]
    reason: str | None = None
    context: dict[str, object] = Field(default_factory=dict)


class CallExpect(_Strict):
    outcome: Literal["self_served", "handed_off", "abandoned", "failed"] | None = None
    handoff: HandoffExpect | None = None
    no_handoff: bool | None = None
    prompts_include: list[str] = Field(default_factory=list)
    prompts_exclude: list[str] = Field(default_factory=list)
    final_language: str | None = None
    intent: str | None = None
    slots: dict[str, object] | None = None
    max_turns: int | None = Field(None, ge=1)


class Turn(_Strict):
    audio: str | None = Field(None, description="caller audio file, relative to the scenario file")
    segment: tuple[float, float] | None = None
    gain_db: float = 0.0
    dtmf: str | None = None
    inband: bool = False
    text: str | None = None
    silence_ms: int | None = Field(None, ge=0, le=120_000)
    hangup: bool = False
    barge_in_ms: int | None = Field(None, ge=0, description="start this turn N ms into the bot's prompt")
    pause_ms: int = Field(400, ge=0, le=60_000, description="gap after the bot stops before the caller acts")
    expect: TurnExpect | None = None
    line: int = Field(0, exclude=True)

    @property
    def kind(self) -> str:
        for k in ("audio", "dtmf", "text"):
            if getattr(self, k) is not None:
                return k
        if self.silence_ms is not None:
            return "silence"
        return "hangup"

    @field_validator("dtmf")
    @classmethod
    def _dtmf_keys(cls, v: str | None) -> str | None:
        if v is not None:
            plain = _VAR.sub("", v)
            bad = [c for c in plain if c not in "0123456789*#ABCD"]
            if not v or bad:
                raise ValueError(f"dtmf must be keys 0-9 * # A-D or {{variables}}, got {v!r}")
        return v

    @model_validator(mode="after")
    def _exactly_one(self) -> Turn:
        kinds = [k for k in ("audio", "dtmf", "text") if getattr(self, k) is not None]
        if self.silence_ms is not None:
            kinds.append("silence_ms")
        if self.hangup:
            kinds.append("hangup")
        if len(kinds) != 1:
            raise ValueError(
                "a turn needs exactly one of audio, dtmf, text, silence_ms, hangup"
                + (f" (got {', '.join(kinds)})" if kinds else "")
            )
        if self.segment is not None:
            if self.audio is None:
                raise ValueError("segment only applies to an audio turn")
            if not 0 <= self.segment[0] < self.segment[1]:
                raise ValueError(f"segment [start, end] needs 0 <= start < end, got {list(self.segment)}")
        if self.hangup and self.expect is not None:
            raise ValueError("a hangup turn cannot have expectations; put them under the call's expect")
        return self


class Scenario(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    language: str = "zh-TW"
    flow: str = "main"
    engine: str | None = None
    model: str | None = None
    sample_rate: Literal[8000, 16000] = 8000
    caller: str = "+886900000000"
    tags: list[str] = Field(default_factory=list)
    requires: list[str] = Field(default_factory=list, description="paths that must exist, else skip")
    xfail: str | None = Field(None, description="a known bug (why, where tracked): failing is reported, passing fails")
    xfail_strict: bool = Field(
        True, description="false only where the xfail's outcome is not deterministic (say why in xfail): "
                          "then passing is reported but does not fail the run")
    vars: dict[str, str] = Field(default_factory=dict,
                                 description="keys used as {name} in dtmf turns (test PINs, dates)")
    turns: list[Turn] = Field(min_length=1)
    expect: CallExpect = Field(default_factory=CallExpect)
    # Set by the loader, not the file.
    path: Path = Field(Path("."), exclude=True)
    line: int = Field(0, exclude=True)

    @field_validator("language")
    @classmethod
    def _language(cls, v: str) -> str:
        if v not in LANGUAGES:
            raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, got {v!r}")
        return v

    @field_validator("vars")
    @classmethod
    def _vars(cls, v: dict[str, str]) -> dict[str, str]:
        for name, keys in v.items():
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                raise ValueError(f"variable name {name!r} must be a plain identifier")
            if any(c not in "0123456789*#ABCD" for c in str(keys)):
                raise ValueError(f"variable {name} must be DTMF keys 0-9 * # A-D, got {keys!r}")
        return {k: str(x) for k, x in v.items()}

    @model_validator(mode="after")
    def _known_vars(self) -> Scenario:
        for i, t in enumerate(self.turns):
            for name in _VAR.findall(t.dtmf or ""):
                if name not in self.vars and name not in DTMF_VARIABLES:
                    raise ValueError(f"turn {i + 1}: dtmf uses {{{name}}} but vars has no {name} "
                                     f"(built in: {', '.join(DTMF_VARIABLES)})")
        return self

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    @property
    def id(self) -> str:
        return f"{self.path.parent.name}/{self.name}" if self.path.parent.name else self.name

    def resolve(self, rel: str) -> Path:
        p = Path(rel)
        return p if p.is_absolute() else (self.base_dir / p)
