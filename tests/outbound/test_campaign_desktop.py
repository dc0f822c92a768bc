"""Campaign progress on the supervisor view of the agent desktop: the JSON
endpoint (supervisors only) reads the campaign state a real run wrote, and a
real browser (Chromium via Playwright) shows the panel, including a pause
made from the command line while it is open. Saves
tests/artifacts/supervisor_campaigns.png."""
from __future__ import annotations

import asyncio
import shutil

import httpx
import pytest

from ivr.cli import main
from ivr.clock import VirtualClock
from ivr.handoff import HandoffService, create_app, open_store
from ivr.outbound import CampaignRun, FakeDialer
from ivr.outbound.simulate import drive
from ivr.outbound.state import CampaignState
from tests.handoff.desktop_server import LiveServer
from tests.handoff.helpers import PASSWORD

from .test_campaign_state import script
from .test_progressive import MON_0900, campaign_file

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


def run_campaign(tmp_path, state: CampaignState, contacts: int, stop_after: int | None) -> str:
    """A progressive campaign (ceiling 10 %) dialled on the virtual clock, its progress kept in ``state``."""
    campaign, rows = campaign_file(tmp_path, contacts, "progressive: {agents: 2, abandon_ceiling: 0.1}")
    state.set_status(campaign.name, "running", str(campaign.path), contacts=len(rows), ceiling=0.1)
    clock = VirtualClock()
    dialer = FakeDialer(clock, script)

    def attempt(_a: object) -> None:
        if stop_after is not None and len(dialer.placed) >= stop_after:
            state.set_status(campaign.name, "paused")

    run = CampaignRun(campaign, rows, dialer, clock, epoch=MON_0900, on_attempt=attempt,
                      on_progress=lambda p: state.save(campaign.name, p),
                      should_stop=lambda: state.status(campaign.name) == "paused")
    asyncio.run(drive(clock, run.run()))
    if not run.stopped:
        state.set_status(campaign.name, "done")
    return campaign.name


@pytest.fixture
def desk(tmp_path):
    """A campaign of 24 finished, a plain one (no ceiling) still running, and a desktop reading them."""
    db = tmp_path / "campaigns.sqlite3"
    state = CampaignState(db)
    run_campaign(tmp_path, state, 24, None)  # "prog"
    state.set_status("calls_b", "running", contacts=10)
    store = open_store(f"sqlite:///{tmp_path / 'desk.db'}")
    svc = HandoffService(store, offer_timeout=600)
    asyncio.run(svc.add_agent("mei", "陳美玲", PASSWORD, tier="T1", skills=["T1"]))
    asyncio.run(svc.add_agent("chief", "張組長", PASSWORD, tier="T3", skills=["T3"], role="supervisor"))
    yield svc, state, db
    state.close()
    store.close()


def login(client: httpx.Client, who: str) -> None:
    r = client.post("/api/login", json={"agent_id": who, "password": PASSWORD})
    assert r.status_code == 200, r.text


def test_endpoint_is_for_supervisors_and_matches_the_report(desk):
    svc, state, _db = desk
    with LiveServer(create_app(svc, run_ticker=False, campaigns=state.overview)) as srv:
        with httpx.Client(base_url=srv.url, headers={"Origin": srv.url}) as c:
            assert c.get("/api/supervisor/campaigns").status_code == 401
            login(c, "mei")
            assert c.get("/api/supervisor/campaigns").status_code == 403
        with httpx.Client(base_url=srv.url, headers={"Origin": srv.url}) as c:
            login(c, "chief")
            doc = c.get("/api/supervisor/campaigns").json()
    assert doc["available"] is True
    rows = {r["name"]: r for r in doc["campaigns"]}
    prog, totals = rows["prog"], state.report("prog")["totals"]
    # the script: every 4th busy, promised to pay, voicemail, transferred (every 8th of those abandoned)
    assert (prog["status"], prog["contacts"], prog["attempted"], prog["reached"]) == ("done", 24, 24, 12)
    assert (prog["promised_to_pay"], prog["transferred"], prog["voicemail"], prog["dnc"]) == (6, 6, 6, 0)
    assert (prog["abandoned_rate"], prog["abandon_ceiling"], prog["over_ceiling"]) == (0.25, 0.1, True)
    assert prog["reached"] == totals["contacted"] and prog["dials"] == totals["attempts"]
    assert rows["calls_b"] == {**rows["calls_b"], "status": "running", "attempted": 0, "contacts": 10,
                               "abandon_ceiling": None, "over_ceiling": False}
    assert "number" not in str(doc) and "0911" not in str(doc)  # totals only, never a contact


def test_without_a_source_and_with_a_broken_one(desk):
    svc, _state, _db = desk

    def broken():
        raise OSError("disk I/O error on /var/ivr/campaigns.sqlite3")

    for source, status in ((None, 200), (broken, 503)):
        with LiveServer(create_app(svc, run_ticker=False, campaigns=source)) as srv, \
                httpx.Client(base_url=srv.url, headers={"Origin": srv.url}) as c:
            login(c, "chief")
            r = c.get("/api/supervisor/campaigns")
        assert r.status_code == status
        if source is None:
            assert r.json() == {"available": False, "campaigns": []}
        else:
            assert r.json()["detail"].startswith("campaign progress unavailable: disk I/O error")


@pytest.mark.slow
async def test_supervisor_sees_the_campaign_panel(desk, artifacts_dir):
    if not shutil.which(CHROMIUM):
        pytest.skip(f"needs Debian chromium at {CHROMIUM}")
    from playwright.async_api import async_playwright, expect

    svc, state, db = desk
    with LiveServer(create_app(svc, tick_interval=0.3, push_interval=0.3, campaigns=state.overview)) as srv:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = await browser.new_page(viewport={"width": 1440, "height": 1100})
            await page.goto(srv.url)
            await page.fill("#login-id", "chief")
            await page.fill("#login-password", PASSWORD)
            await page.click("#login-submit")
            await expect(page.locator("#tab-supervisor")).to_be_visible()
            await page.click("#tab-supervisor")
            panel = page.locator("#sup-campaigns-panel")
            await expect(panel).to_be_visible()
            prog = page.locator('tr[data-campaign="prog"]')
            await expect(prog.locator('[data-col="status"]')).to_have_text("已完成")
            await expect(prog.locator('[data-col="attempted"]')).to_have_text("24 / 24")
            await expect(prog.locator('[data-col="reached"]')).to_have_text("12")
            await expect(prog.locator('[data-col="promised"]')).to_have_text("6")
            await expect(prog.locator('[data-col="transferred"]')).to_have_text("6")
            await expect(prog.locator('[data-col="voicemail"]')).to_have_text("6")
            await expect(prog.locator('[data-col="dnc"]')).to_have_text("0")
            abandoned = prog.locator('[data-col="abandoned"]')
            await expect(abandoned).to_have_text("25.0% / 上限 10.0%")
            await expect(abandoned).to_have_class("over")
            other = page.locator('tr[data-campaign="calls_b"]')
            await expect(other.locator('[data-col="status"]')).to_have_text("進行中")
            await expect(other.locator('[data-col="abandoned"]')).to_have_text("0.0%")

            # paused from the command line (another process' view of the same database): the panel follows
            assert await asyncio.to_thread(main, ["campaign", "pause", "calls_b", "--state", str(db)]) == 0
            await expect(other.locator('[data-col="status"]')).to_have_text("已暫停", timeout=12_000)
            await page.screenshot(path=str(artifacts_dir / "supervisor_campaigns.png"), full_page=True)
            await browser.close()


def test_an_older_state_file_gains_the_new_columns(tmp_path, monkeypatch):
    """A campaigns.sqlite3 from before the panel (no ceiling/contacts columns) opens, keeps its rows and
    shows them; the desktop finds the state file only where a campaign made one."""
    import sqlite3

    from ivr.outbound.state import open_for_desktop

    db = tmp_path / "campaigns.sqlite3"
    with sqlite3.connect(db) as c:
        c.execute("CREATE TABLE campaigns (name TEXT PRIMARY KEY, file TEXT NOT NULL, status TEXT NOT NULL, "
                  "updated REAL NOT NULL)")
        c.execute("INSERT INTO campaigns VALUES ('old', 'old.yaml', 'paused', 1.0)")
    state = CampaignState(db)
    try:
        assert [(r["name"], r["status"], r["abandon_ceiling"]) for r in state.overview()] == [("old", "paused", None)]
        state.set_status("old", "running", ceiling=0.05, contacts=3)
        state.set_status("old", "paused")  # later updates keep what was given once
        (row,) = state.overview()
        assert (row["status"], row["abandon_ceiling"], row["contacts"]) == ("paused", 0.05, 3)
    finally:
        state.close()
    assert CampaignState(db).campaigns()[0][0] == "old"  # a second open finds the columns there
    assert open_for_desktop("none") is None
    monkeypatch.setenv("IVR_CAMPAIGN_DB", str(tmp_path / "never-made.sqlite3"))
    assert open_for_desktop(None) is None and not (tmp_path / "never-made.sqlite3").exists()
    monkeypatch.setenv("IVR_CAMPAIGN_DB", str(db))
    found = open_for_desktop(None)
    assert found is not None and found.overview()[0]["name"] == "old"
    found.close()


@pytest.mark.timeout(200)
@pytest.mark.parametrize("campaigns", ["state", "none"])
def test_ivr_serve_desktop_shows_the_campaigns(desk, tmp_path, campaigns):
    """``ivr serve --desktop --campaigns PATH``: the panel's rows reach the desktop a call worker serves
    (the command line hands the outbound state to the server as a callable; 'none': no campaigns)."""
    import os
    import signal
    import subprocess
    import sys
    import threading
    from pathlib import Path

    from tests.transports.sip.harness import free_port

    _svc, _state, db = desk
    root = Path(__file__).resolve().parents[2]
    port = free_port(__import__("socket").SOCK_STREAM)
    cmd = [sys.executable, "-m", "ivr", "serve", "--websocket", "127.0.0.1:0", "--desktop", f"127.0.0.1:{port}",
           "--campaigns", str(db) if campaigns == "state" else "none", "--flows", str(root / "flows"),
           "--engine", "fake", "--records", str(tmp_path / "calls.sqlite3"), "--queue",
           f"sqlite:///{tmp_path / 'desk.db'}", "--bank", str(tmp_path / "bank.sqlite3"), "--drain", "1",
           "--no-prewarm"]
    env = {**os.environ, "IVR_HOME": str(tmp_path / "home")}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=env)
    watchdog = threading.Timer(150, proc.kill)
    watchdog.start()
    try:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.strip() == "ready":
                break
        assert f"desktop: 127.0.0.1:{port}\n" in lines, "".join(lines) + (proc.stderr.read() if proc.stderr else "")
        url = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=url, headers={"Origin": url}, timeout=10) as c:
            login(c, "chief")
            doc = c.get("/api/supervisor/campaigns").json()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
    if campaigns == "none":
        assert doc == {"available": False, "campaigns": []}
    else:
        rows = {r["name"]: r for r in doc["campaigns"]}
        assert doc["available"] is True and set(rows) == {"prog", "calls_b"}
        assert (rows["prog"]["status"], rows["prog"]["attempted"]) == ("done", 24)
