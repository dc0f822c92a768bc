"""A self-contained HTML report: open it from a CI artifact and listen to
each caller turn next to what was heard, understood and answered."""
from __future__ import annotations

import base64
import datetime as dt
import json
import os
from pathlib import Path

import jinja2

from ivr.asr.scoring import diff_ops, normalize_for_cer, shown_form
from ivr.qa.results import RunSummary, ScenarioResult, TurnResult
from ivr.redact import redact


def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("ivr.qa", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
    )


def _audio_src(t: TurnResult, sc_dir: Path, out_dir: Path, embed: bool, audio_path: Path | None) -> str:
    if not embed and audio_path is not None and audio_path.exists():
        return Path(os.path.relpath(audio_path, out_dir)).as_posix()
    if t.caller_wav:
        return "data:audio/wav;base64," + base64.b64encode(t.caller_wav).decode("ascii")
    return ""


def _highlight(t: TurnResult, spec) -> list[tuple[str, str]]:
    """Runs for the transcript cell: a character diff against a reference
    transcript, or the expected phrases marked where they were heard."""
    if not t.transcript:
        return []
    if t.secret:  # never diff against the scenario's reference: that is the secret
        return [("eq", t.transcript)]
    exp = spec.expect if spec is not None else None
    if exp is not None and exp.reference:
        return diff_ops(exp.reference, t.transcript)
    needles = [] if exp is None or exp.transcript_contains is None else (
        [exp.transcript_contains] if isinstance(exp.transcript_contains, str) else list(exp.transcript_contains))
    # found in the compared form, shown as written (the two forms align character by character)
    heard, shown = normalize_for_cer(t.transcript), shown_form(t.transcript)
    runs: list[tuple[str, str]] = []
    pos = 0
    for n in needles:
        k = normalize_for_cer(n)
        i = heard.find(k, pos) if k else -1
        if i < 0:
            continue
        runs += [("eq", shown[pos:i]), ("mark", shown[i:i + len(k)])]
        pos = i + len(k)
    if not runs:
        return [("eq", t.transcript)] + [("del", n) for n in needles]
    return [r for r in runs + [("eq", shown[pos:])] if r[1]]


def _shown_path(p: Path) -> str:
    """Relative to the working directory when under it: shorter, and the same on every CI runner."""
    try:
        return p.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(p)


def _fmt(v) -> str:
    return redact(v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, default=str))


def _view(r: ScenarioResult, out_dir: Path, embed: bool) -> dict:
    sc = r.scenario
    turns = []
    for t in r.turns:
        spec = sc.turns[t.index] if t.index < len(sc.turns) else None
        audio_path = sc.resolve(spec.audio) if spec is not None and spec.audio else None
        turns.append({
            "index": t.index, "label": t.label, "transcript": redact(t.transcript),
            "dtmf": "*" * len(t.dtmf) if len(t.dtmf) > 5 else t.dtmf,
            "diff": [(op, redact(s)) for op, s in _highlight(t, spec)],
            "expected_text": redact(t.expected_text), "cer": t.cer, "intent": t.intent, "command": t.command,
            "slots": {k: _fmt(v) for k, v in t.slots.items()}, "prompts": t.prompts,
            "prompt_texts": [redact(x) for x in t.prompt_texts if x], "latency_ms": t.latency_ms,
            "no_input": t.no_input, "failures": [redact(f) for f in t.failures],
            "audio_src": (_audio_src(t, sc.base_dir, out_dir, embed, audio_path)
                          if t.kind in ("audio", "dtmf", "text") else ""),
        })
    return {
        "name": sc.name, "description": sc.description, "tags": sc.tags, "language": sc.language,
        "engine": r.engine, "where": f"{_shown_path(sc.path)}:{sc.line or 1}", "status": r.status,
        "message": redact(r.message),
        "failures": [redact(f) for f in r.failures], "turns": turns, "outcome": r.outcome, "queue": r.handoff_queue,
        "context": {k: _fmt(v) for k, v in r.handoff_context.items()},
        "wall_seconds": r.wall_seconds, "call_seconds": r.call_seconds,
    }


def render_html(summary: RunSummary, out_dir: Path | None = None, embed_audio: bool = True,
                title: str = "ivr scenario report") -> str:
    out_dir = out_dir or Path.cwd()
    order = {"failed": 0, "error": 1, "passed": 2, "skipped": 3}
    results = sorted(summary.results, key=lambda r: (order[r.status], r.scenario.name))
    return _env().get_template("report.html").render(
        title=title,
        generated=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        total=len(summary.results), wall=summary.wall_seconds,
        counts={s: summary.count(s) for s in ("passed", "failed", "error", "skipped")},
        results=[_view(r, out_dir, embed_audio) for r in results],
    )


def write_html(summary: RunSummary, path: str | Path, embed_audio: bool = True,
               title: str = "ivr scenario report") -> Path:
    """Write the report. ``embed_audio`` puts caller audio inline (one file to
    archive); otherwise audio files are linked relative to the report."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(render_html(summary, p.parent.resolve(), embed_audio, title), encoding="utf-8")
    return p
