"""Campaign files: who to call, with which flow, when, how often, how fast.

```yaml
campaign: reminders_2026_12
flow: payment_reminder          # run when a person answers
caller_id: "0227181234"
list: contacts.csv              # id, number, then any columns the flow reads as slots
windows:                        # Asia/Taipei wall time
  - {days: [mon, tue, wed, thu, fri], from: "09:00", to: "21:00"}
  - {days: [sat], from: "10:00", to: "18:00"}
holidays: holidays-tw-2026.txt  # one YYYY-MM-DD per line: no calls that day
dnc: dnc.txt                    # do-not-call numbers, read again before every dial
max_attempts: 4
retry_minutes: {no_answer: 60, busy: 10, voicemail: 240, failed: 30}
on_voicemail: drop              # drop (leave the message) | retry
voicemail_message: {zh-TW: "{customer_name}您好，這裡是福爾摩沙銀行，請回電 02-2718-1234。"}
pacing: {max_in_flight: 4, calls_per_second: 2}
trunk: "sip:{number}@10.0.0.1:5060"  # --dialer sip
sip_transport: udp              # udp (default) | tcp: SIP to the trunk over TCP (RFC 3261 18.3)
progressive: {agents: 3, abandon_seconds: 2, abandon_ceiling: 0.03}
```
Paths are relative to the campaign file. Every problem is one line naming
``file:line``; ``ivr campaign validate`` lists them all."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ivr.errors import IvrError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
RETRY_RESULTS = ("no_answer", "busy", "voicemail", "failed")
_HHMM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$")


class CampaignError(IvrError):
    """A campaign file, or a file it names, that cannot be used."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Window(_Strict):
    days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = Field(min_length=1)
    from_: str = Field(alias="from", description="HH:MM, Asia/Taipei")
    to: str = Field(description="HH:MM (24:00 = midnight), after 'from'")

    @field_validator("from_", "to")
    @classmethod
    def _time(cls, v: str) -> str:
        if not isinstance(v, str) or not _HHMM.match(v):
            raise ValueError(f"time must be HH:MM, got {v!r}")
        return v

    @model_validator(mode="after")
    def _order(self) -> Window:
        if minutes(self.to) <= minutes(self.from_):
            raise ValueError(f"window ends ({self.to}) before it starts ({self.from_})")
        return self


class Pacing(_Strict):
    max_in_flight: int = Field(1, ge=1, le=500, description="calls up at once")
    calls_per_second: float = Field(1.0, gt=0, le=100, description="new calls started per second, at most")


class Progressive(_Strict):
    """Callees who ask for a person join the queue the flow's handoff names,
    with its context; one no agent takes within ``abandon_seconds`` counts as
    abandoned, and dialling slows down while the abandoned rate (abandoned /
    answered) is over ``abandon_ceiling``. ``agents``: for rehearsals."""

    agents: int = Field(1, ge=1, le=1000, description="agents on the campaign")
    abandon_seconds: float = Field(2.0, gt=0, le=60)
    abandon_ceiling: float = Field(0.03, gt=0, lt=1, description="abandoned / answered, e.g. 0.03 = 3 %")


class CampaignSpec(_Strict):
    campaign: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    description: str = ""
    flow: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    caller_id: str = Field(pattern=r"^\+?[0-9]{6,15}$")
    list_: str = Field(alias="list", description="the contact list CSV, relative to this file")
    windows: list[Window] = Field(min_length=1)
    holidays: str | None = None
    dnc: str | None = None
    max_attempts: int = Field(3, ge=1, le=20)
    retry_minutes: dict[Literal["no_answer", "busy", "voicemail", "failed"], float] = Field(default_factory=dict)
    on_voicemail: Literal["drop", "retry"] = "retry"
    pacing: Pacing = Field(default_factory=Pacing)
    timezone: Literal["Asia/Taipei"] = "Asia/Taipei"
    # --dialer sip: the callee's URI ({number} is the contact's), how long it rings, what a machine is told
    trunk: str = Field("", pattern=r"^$|^sips?:[^\s]*\{number\}[^\s]*$")
    sip_transport: Literal["udp", "tcp"] = "udp"
    ring_seconds: float = Field(30.0, ge=5, le=120)
    voicemail_message: dict[Literal["zh-TW", "nan-TW"], str] = Field(default_factory=dict)
    language: Literal["zh-TW", "nan-TW"] = "zh-TW"
    progressive: Progressive | None = None

    @field_validator("retry_minutes")
    @classmethod
    def _spacing(cls, v: dict[str, float]) -> dict[str, float]:
        for k, m in v.items():
            if not 1 <= m <= 14 * 24 * 60:
                raise ValueError(f"retry_minutes.{k} must be 1..20160 minutes, got {m}")
        return v


def minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


@dataclass(frozen=True)
class Campaign:
    """A loaded campaign: the spec, the file it came from, its resolved paths."""

    spec: CampaignSpec
    path: Path
    list_path: Path
    holidays: frozenset[dt.date]
    dnc_path: Path | None

    @property
    def name(self) -> str:
        return self.spec.campaign

    def retry_seconds(self, result: str) -> float:
        return 60.0 * self.spec.retry_minutes.get(result, DEFAULT_RETRY_MINUTES.get(result, 60.0))  # type: ignore[call-overload]


DEFAULT_RETRY_MINUTES = {"no_answer": 60.0, "busy": 10.0, "voicemail": 240.0, "failed": 30.0}


def _line_of(raw: Any, loc: tuple[Any, ...]) -> int:
    from ivr.dialog.yaml_lines import line_of

    return line_of(raw, tuple("from" if p == "from_" else p for p in loc))


def check(path: str | Path) -> tuple[Campaign | None, list[str]]:
    """Load a campaign file; returns (campaign or None, problems as ``file:line: message``)."""
    from ivr.dialog.yaml_lines import YamlLimitError, load_yaml_file
    from ivr.errors import FlowError

    path = Path(path)
    try:
        raw = load_yaml_file(path)
    except YamlLimitError:
        raise  # not a campaign file at all (too big, too deep, NUL bytes): stop, exit 2
    except FlowError as e:
        return None, [str(e).replace("\n", " ")]
    except OSError as e:
        return None, [f"{path}: cannot read: {e.strerror or e}"]
    if not isinstance(raw, dict):
        return None, [f"{path}:1: a campaign file is a mapping (campaign, flow, list, windows, ...)"]
    try:
        spec = CampaignSpec.model_validate(raw)
    except ValidationError as e:
        out = []
        for err in e.errors():
            loc = tuple(err["loc"])
            where = ".".join("from" if p == "from_" else str(p) for p in loc) or "campaign"
            msg = err["msg"].removeprefix("Value error, ")
            out.append(f"{path}:{_line_of(raw, loc)}: {where}: {msg}")
        return None, out
    problems: list[str] = []
    base = path.parent
    list_path = base / spec.list_
    if not list_path.is_file():
        problems.append(f"{path}:{_line_of(raw, ('list',))}: list: no such file {list_path}")
    holidays: frozenset[dt.date] = frozenset()
    if spec.holidays:
        from ivr.outbound.calling_hours import read_holidays

        try:
            holidays = read_holidays(base / spec.holidays)
        except CampaignError as e:
            problems.append(str(e))
    dnc_path = base / spec.dnc if spec.dnc else None
    if dnc_path is not None and not dnc_path.is_file():
        problems.append(f"{path}:{_line_of(raw, ('dnc',))}: dnc: no such file {dnc_path}")
    if problems:
        return None, problems
    return Campaign(spec, path, list_path, holidays, dnc_path), []


def load_campaign(path: str | Path) -> Campaign:
    """The campaign, or ``CampaignError`` with its first problem (one line)."""
    campaign, problems = check(path)
    if campaign is None:
        raise CampaignError(problems[0] + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""))
    return campaign
