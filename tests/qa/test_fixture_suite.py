"""The shipped fixture set, end to end through the CLI: it passes, its JUnit
XML says so with the right counts, and its HTML report renders in a browser."""
from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ivr.qa import load_scenarios

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "audio_fixtures"
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def suite_run(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("qa")
    junit, html, js, db = out / "junit.xml", out / "report.html", out / "run.json", out / "records.sqlite3"
    proc = subprocess.run(
        [sys.executable, "-m", "ivr", "--log-level", "info", "test", str(FIXTURES), "--junit", str(junit),
         "--html", str(html), "--json", str(js), "--keep-records", str(db)],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
        # the fixtures' transcripts are Whisper's at its default two threads: an OMP_NUM_THREADS
        # inherited from the caller's shell would change its int8 results (README: For QA)
        env={**{k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}, "COLUMNS": "160"},
    )
    return {"proc": proc, "junit": junit, "html": html, "json": js, "records": db}


@pytest.mark.slow
def test_no_pin_in_anything_the_suite_produced(suite_run: dict) -> None:
    """The demo bank's phone-banking PINs are keyed in many fixture calls:
    none may appear in the reports, the JSON, the call records or the logs."""
    import re
    import sqlite3

    from ivr.backends.demo_bank import SEED_CUSTOMERS

    pins = [c[2] for c in SEED_CUSTOMERS]
    found = re.compile("|".join(rf"(?<![0-9]){p}(?![0-9])" for p in pins))
    proc = suite_run["proc"]
    texts = {"stdout": proc.stdout, "stderr": proc.stderr, "junit": suite_run["junit"].read_text(encoding="utf-8"),
             "json": suite_run["json"].read_text(encoding="utf-8")}
    html = suite_run["html"].read_text(encoding="utf-8")
    texts["html"] = re.sub(r"data:audio/[^\"']+", "", html)  # embedded audio is base64, not text
    with sqlite3.connect(suite_run["records"]) as db:
        for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
            for row in db.execute(f"SELECT * FROM {table}").fetchall():
                texts[f"records.{table}"] = texts.get(f"records.{table}", "") + " ".join(
                    str(v) for v in row if isinstance(v, str)) + "\n"
    leaks = {where: found.findall(text) for where, text in texts.items() if found.search(text)}
    assert leaks == {}


@pytest.mark.slow
def test_fixture_suite_passes_with_right_junit_counts(suite_run: dict) -> None:
    proc = suite_run["proc"]
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    scenarios = load_scenarios([FIXTURES])
    needs_shared = [s for s in scenarios if any(not s.resolve(r).exists() for r in s.requires)]
    suite = ET.parse(suite_run["junit"]).getroot().find("testsuite")
    assert int(suite.get("tests")) == len(scenarios) >= 40
    assert (suite.get("failures"), suite.get("errors")) == ("0", "0")
    known_bugs = [s for s in scenarios if s.xfail and s not in needs_shared]
    # a strict xfail is always a known failure; one marked not deterministic (xfail_strict: false) may pass
    strict = [s for s in known_bugs if s.xfail_strict]
    assert len(needs_shared) + len(strict) <= int(suite.get("skipped")) <= len(needs_shared) + len(known_bugs)
    names = {c.get("name") for c in suite.iter("testcase")}
    assert names == {s.name for s in scenarios}
    assert "passed" in proc.stdout and "ivr test" in proc.stdout  # the summary table


@pytest.mark.slow
def test_html_report_screenshot(suite_run: dict, artifacts_dir: Path) -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"needs Debian chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    html = suite_run["html"]
    assert html.is_file(), suite_run["proc"].stderr[-2000:]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(html.as_uri())
            # open one voice scenario so the screenshot shows a turn table with audio players
            page.locator("details.sc", has_text="zh_voice_support").first.evaluate("d => d.open = true")
            page.locator("details.sc", has_text="zh_voice_support").first.scroll_into_view_if_needed()
            assert page.locator("audio").count() > 0
            assert page.locator(".pill.passed").first.inner_text().endswith("passed")
            page.screenshot(path=str(artifacts_dir / "qa_report.png"), full_page=False)
        finally:
            browser.close()
    assert (artifacts_dir / "qa_report.png").stat().st_size > 10_000
