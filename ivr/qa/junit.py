"""JUnit XML that CI systems (GitLab, Jenkins, GitHub test reporters) read:
one testcase per scenario, failures listing every missed expectation."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from ivr.qa.results import RunSummary, ScenarioResult
from ivr.redact import redact


def _turn_log(r: ScenarioResult) -> str:
    lines = []
    for t in r.turns:
        bits = [f"turn {t.index + 1} [{t.label}]"]
        if t.transcript:
            bits.append(f"heard={t.transcript!r}")
        if t.intent:
            bits.append(f"intent={t.intent}")
        if t.prompts:
            bits.append(f"bot={','.join(t.prompts)}")
        if t.latency_ms is not None:
            bits.append(f"latency={t.latency_ms:.0f}ms")
        lines.append(" ".join(bits))
    lines.append(f"outcome={r.outcome or '-'} queue={r.handoff_queue or '-'} engine={r.engine or '-'}")
    return redact("\n".join(lines))


def junit_xml(summary: RunSummary, suite_name: str = "ivr scenarios") -> ET.Element:
    rs = summary.results
    suite = ET.Element(
        "testsuite",
        name=suite_name,
        tests=str(len(rs)),
        failures=str(summary.count("failed")),
        errors=str(summary.count("error")),
        skipped=str(summary.count("skipped")),
        time=f"{summary.wall_seconds:.3f}",
    )
    for r in rs:
        sc = r.scenario
        case = ET.SubElement(
            suite, "testcase",
            classname=sc.path.parent.name or "scenarios",
            name=sc.name,
            file=str(sc.path),
            line=str(sc.line or 1),
            time=f"{r.wall_seconds:.3f}",
        )
        if r.status == "failed":
            fails = r.all_failures
            more = f" (+{len(fails) - 1} more)" if len(fails) > 1 else ""
            el = ET.SubElement(case, "failure", message=redact(fails[0]) + more, type="ExpectationFailed")
            el.text = redact("\n".join(fails))
        elif r.status == "error":
            first = r.message.splitlines()[0] if r.message else "error"
            el = ET.SubElement(case, "error", message=redact(first), type="ScenarioError")
            el.text = redact(r.message)
        elif r.status == "skipped":
            ET.SubElement(case, "skipped", message=r.message)
        if r.turns:
            ET.SubElement(case, "system-out").text = _turn_log(r)
    return suite


def write_junit(summary: RunSummary, path: str | Path, suite_name: str = "ivr scenarios") -> Path:
    root = ET.Element("testsuites", name=suite_name)
    suite = junit_xml(summary, suite_name)
    for k in ("tests", "failures", "errors", "skipped", "time"):
        root.set(k, suite.get(k, "0"))
    root.append(suite)
    ET.indent(root)
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(p, encoding="utf-8", xml_declaration=True)
    return p
