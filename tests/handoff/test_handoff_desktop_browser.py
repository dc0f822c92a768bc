"""A real browser at the agent desktop: log in, a handed-off call pops up
with its context, accept, wrap up; then the supervisor view. Saves
tests/artifacts/agent_desktop.png and supervisor_view.png."""
from __future__ import annotations

import shutil

import pytest

from ivr.handoff import ContextBundle, HandoffService, TranscriptTurn, create_app, open_store

from .desktop_server import LiveServer
from .helpers import PASSWORD

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]

pytestmark = pytest.mark.slow


def rich_bundle() -> ContextBundle:
    return ContextBundle(
        call_id="CALL-20261125-0042", caller_number="0912345678", language="zh-TW",
        verified=True, verified_by="身分證 + 生日", customer_id="A123456789", customer_name="林怡君", customer_tier="vip",
        intent="technical_support", slots={"產品": "網路銀行 App", "錯誤訊息": "E1023 登入逾時", "裝置": "iPhone 15"},
        reason="caller_asked_agent", note="兩次自助重設失敗",
        transcript=(
            TranscriptTurn(0.4, "bot", "您好，這裡是客服中心。請問今天需要什麼服務？"),
            TranscriptTurn(4.1, "caller", "我的網路銀行 App 一直沒辦法登入", 0.93),
            TranscriptTurn(6.0, "bot", "了解。請說出您的身分證字號以驗證身分。"),
            TranscriptTurn(11.8, "caller", "A 一二三四五六七八九", 0.88),
            TranscriptTurn(14.2, "bot", "驗證成功。請問畫面上顯示什麼錯誤訊息？"),
            TranscriptTurn(19.5, "caller", "E1023 登入逾時，我已經重設兩次密碼了", 0.9),
            TranscriptTurn(23.0, "bot", "好的，為您轉接技術專員，請稍候。"),
        ),
        path=("main.greet", "main.menu", "verify.taiwan_id", "tech.login_help", "tech.reset_attempt", "handoff.T2"),
        value_score=90, value_priority=8, value_label="VIP: 存款 > 100 萬, 14 年客戶",
        recent_contacts=({"when": "2026-11-23 10:05", "intent": "technical_support", "outcome": "handed_off",
                          "queue": "T2", "agent": "a07", "wrap_up": "follow_up", "notes": "請客戶更新 App 後再試"},),
    )


async def test_agent_logs_in_takes_call_and_wraps_up(tmp_path, artifacts_dir):
    if not shutil.which(CHROMIUM):
        pytest.skip(f"needs Debian chromium at {CHROMIUM}")
    from playwright.async_api import async_playwright, expect

    # The browser flow does not depend on the backend (the store tests cover both).
    store = open_store(f"sqlite:///{tmp_path / 'desk.db'}")
    svc = HandoffService(store, offer_timeout=600)
    await svc.add_agent("mei", "陳美玲", PASSWORD, tier="T2", skills=["T2", "T1"])
    await svc.add_agent("chief", "張組長", PASSWORD, tier="T3", skills=["T3"], role="supervisor")
    with LiveServer(create_app(svc, tick_interval=0.3, push_interval=0.3)) as srv:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = await browser.new_page(viewport={"width": 1440, "height": 960})
            await page.goto(srv.url)
            await page.fill("#login-id", "mei")
            await page.fill("#login-password", "not the password")
            await page.click("#login-submit")
            await expect(page.locator("#login-error")).to_contain_text("錯誤")
            await page.fill("#login-password", PASSWORD)
            await page.click("#login-submit")
            await expect(page.locator("#desk-view")).to_be_visible()
            await expect(page.locator("#no-call")).to_be_visible()
            await page.select_option("#status-select", "available")
            await expect(page.locator("#status-pill")).to_have_text("可接聽")

            ticket = await svc.enqueue(rich_bundle(), "T2")
            for i, intent in enumerate(("check_balance", "reset_password")):
                await svc.enqueue(ContextBundle(call_id=f"W{i}", intent=intent, language=("zh-TW", "nan-TW")[i]), "T1")

            # screen pop: the offered call with its context
            await expect(page.locator("#call-banner")).to_contain_text("來電轉接中", timeout=10_000)
            await expect(page.locator("#ctx-caller")).to_contain_text("林怡君")
            await expect(page.locator("#ctx-facts")).to_contain_text("已驗證")
            await expect(page.locator("#ctx-facts")).to_contain_text("技術支援")
            await expect(page.locator("#ctx-transcript")).to_contain_text("E1023 登入逾時")
            await expect(page.locator("#ctx-path")).to_contain_text("tech.login_help")
            await expect(page.locator("#ctx-slots")).to_contain_text("iPhone 15")
            # customer value (ivr.history.value) and the last contacts (ivr.history)
            await expect(page.locator("#ctx-facts")).to_contain_text("VIP: 存款 > 100 萬, 14 年客戶")
            await expect(page.locator("#ctx-history")).to_contain_text("2026-11-23 10:05")
            await expect(page.locator("#ctx-history")).to_contain_text("請客戶更新 App 後再試")

            await page.click("#btn-accept")
            await expect(page.locator("#call-banner")).to_contain_text("通話中")
            await expect(page.locator("#status-pill")).to_have_text("通話中")
            await expect(page.locator("[data-queue=T1] tbody tr")).to_have_count(2)
            assert (await svc.status(ticket)).status == "connected"
            await page.screenshot(path=str(artifacts_dir / "agent_desktop.png"), full_page=True)

            await page.select_option("#wrapup-disposition", "resolved")
            await page.fill("#wrapup-note", "協助清除 App 快取後登入成功")
            await page.click("#btn-wrapup")
            # wrap-up frees the agent, and the next caller in T1 pops up
            await expect(page.locator("#ctx-caller")).not_to_contain_text("林怡君", timeout=10_000)
            done = await svc.status(ticket)
            assert done.status == "done" and done.agent == "mei"
            wrapped = [e for e in store.events() if e["type"] == "wrapped"]
            assert wrapped[-1]["disposition"] == "resolved" and wrapped[-1]["note"].startswith("協助")

            # A supervisor sees live queues, agents and the day's numbers.
            for outcome in ("contained", "contained", "contained", "transferred"):
                await svc.record_call_outcome(outcome)
            sup = await browser.new_page(viewport={"width": 1440, "height": 900})
            await sup.goto(srv.url)
            await sup.fill("#login-id", "chief")
            await sup.fill("#login-password", PASSWORD)
            await sup.click("#login-submit")
            await sup.click("#tab-supervisor")
            await expect(sup.locator("#sup-tiles")).to_contain_text("75.0%")      # 3 of 4 calls contained
            await expect(sup.locator("#sup-agents")).to_contain_text("陳美玲")
            await expect(sup.locator("#sup-queues")).to_contain_text("T2")
            await sup.screenshot(path=str(artifacts_dir / "supervisor_view.png"), full_page=True)
            await browser.close()
