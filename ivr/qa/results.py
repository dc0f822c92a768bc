"""What running a scenario produced: per turn what the caller did, what was
heard and understood, what the bot answered, and every expectation missed."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from ivr.qa.scenario import Scenario
from ivr.redact import redact

Status = Literal["passed", "failed", "skipped", "error"]


@dataclass
class TurnResult:
    index: int
    kind: str  # audio | dtmf | text | silence | hangup
    line: int
    label: str  # what the caller did, human-readable
    caller_wav: bytes = b""  # the caller's audio for this turn as a small WAV (for the report)
    transcript: str = ""
    dtmf: str = ""
    expected_text: str = ""  # reference or transcript_contains, for the diff
    cer: float | None = None
    intent: str | None = None
    command: str | None = None  # a global command (agent, repeat, main_menu, lang_*, goodbye)
    slots: dict[str, Any] = field(default_factory=dict)
    prompts: list[str] = field(default_factory=list)
    prompt_texts: list[str] = field(default_factory=list)
    latency_ms: float | None = None  # end of caller turn -> first bot audio
    no_input: bool = False
    barged_in: bool = False
    failures: list[str] = field(default_factory=list)
    # the turn answered a ``secret: true`` step: what was keyed or said, and the
    # scenario's reference for it, are never shown (nor its audio)
    secret: bool = False
    secret_slots: list[str] = field(default_factory=list)  # slot names whose values are never shown


@dataclass
class ScenarioResult:
    scenario: Scenario
    status: Status = "passed"
    turns: list[TurnResult] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # call-level
    outcome: str = ""
    call_id: str = ""
    handoff_queue: str | None = None
    handoff_context: dict[str, Any] = field(default_factory=dict)
    prompts: list[str] = field(default_factory=list)
    engine: str = ""
    wall_seconds: float = 0.0
    call_seconds: float = 0.0
    message: str = ""  # skip reason or error text
    input_error: bool = False  # the scenario's own files could not be read (CLI exit 2)

    @property
    def all_failures(self) -> list[str]:
        out = list(self.failures)
        for t in self.turns:
            out += [f"turn {t.index + 1} (line {t.line}): {f}" for f in t.failures]
        return out

    def settle(self) -> ScenarioResult:
        if self.status in ("passed", "failed"):
            self.status = "failed" if self.all_failures else "passed"
            why = self.scenario.xfail
            if why and self.status == "failed":
                # a known bug: reported (as skipped) with what still fails
                self.status = "skipped"
                self.message = f"known failure ({why}): {self.all_failures[0]}"
            elif why and not self.scenario.xfail_strict:
                self.message = f"known failure ({why}) did not fail this time (xfail_strict: false)"
            elif why:
                self.status = "failed"
                self.failures.append(f"marked xfail ({why}) but passed: remove the xfail")
        return self


@dataclass
class RunSummary:
    results: list[ScenarioResult]
    wall_seconds: float = 0.0

    def count(self, status: Status) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def ok(self) -> bool:
        return not any(r.status in ("failed", "error") for r in self.results)


def _expected(scenario: Scenario, turn: int, what: Literal["intent", "reference"]) -> str | None:
    expect = scenario.turns[turn].expect
    return None if expect is None else getattr(expect, what)


def _hidden(text: str | None) -> str | None:
    return None if text is None else "*" * len(text)


def summary_dict(summary: RunSummary) -> dict[str, Any]:
    """The run as plain data (bench scripts, dashboards)."""
    out = []
    for r in summary.results:
        out.append({
            "name": r.scenario.name, "file": str(r.scenario.path), "language": r.scenario.language,
            "tags": list(r.scenario.tags), "status": r.status, "message": r.message, "failures": r.all_failures,
            "outcome": r.outcome, "expected_outcome": r.scenario.expect.outcome, "queue": r.handoff_queue,
            "engine": r.engine, "wall_seconds": round(r.wall_seconds, 3), "call_seconds": round(r.call_seconds, 3),
            "turns": [{
                # personal numbers masked as in the HTML report (and secret turns are '****' already)
                "kind": t.kind, "line": t.line, "transcript": redact(t.transcript), "dtmf": redact(t.dtmf),
                "intent": t.intent,
                "command": t.command, "expected_intent": _expected(r.scenario, t.index, "intent"),
                "reference": _hidden(_expected(r.scenario, t.index, "reference")) if t.secret
                else _expected(r.scenario, t.index, "reference"),
                "cer": t.cer, "prompts": t.prompts, "latency_ms": t.latency_ms, "no_input": t.no_input,
                "failures": t.failures,
            } for t in r.turns],
        })
    return {"wall_seconds": round(summary.wall_seconds, 3),
            "counts": {s: summary.count(s) for s in ("passed", "failed", "error", "skipped")}, "scenarios": out}


# what must come out the same on every replay of the same audio (replay is deterministic)
_REPLAYED = ("transcript", "dtmf", "intent", "command", "no_input", "latency_ms", "barged_in")


def replay_differences(first: RunSummary, second: RunSummary) -> list[str]:
    """One line per scenario whose second replay differs from the first: its
    verdict, outcome, or a turn's transcript, keys, intent, command, no-input,
    barge-in or latency on the virtual clock (personal numbers redacted, secret
    turns are masked already). Empty when the replays agree."""
    out: list[str] = []
    again = {r.scenario.name: r for r in second.results}
    for a in first.results:
        b = again.get(a.scenario.name)
        if b is None:
            out.append(f"{a.scenario.name}: not replayed the second time")
            continue
        if (a.status, a.outcome, a.handoff_queue) != (b.status, b.outcome, b.handoff_queue):
            out.append(f"{a.scenario.name}: {a.status}/{a.outcome or '-'}/{a.handoff_queue or '-'} then "
                       f"{b.status}/{b.outcome or '-'}/{b.handoff_queue or '-'}")
            continue
        if len(a.turns) != len(b.turns):
            out.append(f"{a.scenario.name}: {len(a.turns)} turns then {len(b.turns)}")
            continue
        for ta, tb in zip(a.turns, b.turns, strict=True):
            field_ = next((f for f in _REPLAYED if getattr(ta, f) != getattr(tb, f)), None)
            if field_ is not None:
                va, vb = getattr(ta, field_), getattr(tb, field_)
                if isinstance(va, str) and isinstance(vb, str):
                    va, vb = redact(va), redact(vb)
                out.append(f"{a.scenario.name} turn {ta.index + 1} (line {ta.line}): {field_} {va!r} then {vb!r}")
                break
    return out
