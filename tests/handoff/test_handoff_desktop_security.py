"""Desktop security against a real uvicorn: no session, no data; passwords
hashed; skills limit which contexts an agent can read."""
from __future__ import annotations

import asyncio
import json

import httpx
import pytest
import websockets

from ivr.handoff import HandoffService, create_app

from .desktop_server import LiveServer
from .helpers import PASSWORD, add_agent, bundle


@pytest.fixture
def live(store):
    svc = HandoffService(store, offer_timeout=600)
    with LiveServer(create_app(svc, tick_interval=0.2, push_interval=0.2)) as srv:
        yield svc, srv


async def _login(client: httpx.AsyncClient, agent_id: str, password: str = PASSWORD) -> str:
    r = await client.post("/api/login", json={"agent_id": agent_id, "password": password})
    assert r.status_code == 200, r.text
    return r.json()["token"]


async def test_unauthenticated_http_is_refused(live):
    _svc, srv = live
    async with httpx.AsyncClient(base_url=srv.url) as c:
        for path in ("/api/me", "/api/queues", "/api/meta", "/api/supervisor", "/api/tickets/x"):
            assert (await c.get(path)).status_code == 401, path
        for path in ("/api/status", "/api/tickets/x/accept", "/api/tickets/x/wrapup"):
            assert (await c.post(path, json={"status": "available", "disposition": "resolved"})).status_code == 401, path
        assert (await c.get("/api/me", headers={"Authorization": "Bearer forged"})).status_code == 401
    async with httpx.AsyncClient(base_url=srv.url, cookies={"ivr_session": "forged"}) as c:
        assert (await c.get("/api/me")).status_code == 401
    async with httpx.AsyncClient(base_url=srv.url) as c:
        # the login page itself is public and carries no data
        page = await c.get("/")
        assert page.status_code == 200 and "login-form" in page.text


async def test_unauthenticated_websocket_is_refused(live):
    _svc, srv = live
    ws_url = srv.url.replace("http", "ws") + "/ws"
    for extra in ("", "?token=forged"):
        with pytest.raises(websockets.exceptions.InvalidStatus) as e:
            async with websockets.connect(ws_url + extra):
                pass
        assert e.value.response.status_code == 403


async def test_websocket_with_session_gets_snapshots(live):
    svc, srv = live
    await add_agent(svc, "wsagent", available=False)
    async with httpx.AsyncClient(base_url=srv.url) as c:
        token = await _login(c, "wsagent")
    ws_url = srv.url.replace("http", "ws") + "/ws"
    async with websockets.connect(ws_url, additional_headers={"Cookie": f"ivr_session={token}"}) as ws:
        snap = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert snap["agent"]["id"] == "wsagent" and "password_hash" not in snap["agent"]
        assert snap["state"]["status"] == "away" and snap["call"] is None
        await svc.set_status("wsagent", "available")
        t = await svc.enqueue(bundle("ws-call"), "T1")
        for _ in range(20):
            snap = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if snap["call"]:
                break
        assert snap["call"]["ticket"]["id"] == t.id and snap["call"]["context"]["call_id"] == "ws-call"


async def test_passwords_are_argon2_hashed_and_checked(live):
    svc, srv = live
    await add_agent(svc, "hashy", available=False)
    prof = svc.store.get_agent("hashy")
    assert prof.password_hash.startswith("$argon2id$") and PASSWORD not in prof.password_hash
    async with httpx.AsyncClient(base_url=srv.url) as c:
        r = await c.post("/api/login", json={"agent_id": "hashy", "password": "wrong password"})
        assert r.status_code == 401
        r = await c.post("/api/login", json={"agent_id": "nobody", "password": PASSWORD})
        assert r.status_code == 401
        r = await c.post("/api/login", json={"agent_id": "hashy", "password": PASSWORD})
        token = r.json()["token"]
        cookie = r.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        me = await c.get("/api/me")   # the cookie from login
        assert me.status_code == 200 and me.json()["agent"]["id"] == "hashy"
        assert "password_hash" not in me.text
        assert (await c.post("/api/logout")).status_code == 204
        assert (await c.get("/api/me", headers={"Authorization": f"Bearer {token}"})).status_code == 401
        for _ in range(5):
            await c.post("/api/login", json={"agent_id": "hashy", "password": "guess guess"})
        assert (await c.post("/api/login", json={"agent_id": "hashy", "password": PASSWORD})).status_code == 429


async def test_agent_without_skill_cannot_read_context(live):
    svc, srv = live
    await add_agent(svc, "general", skills=["T1"], available=False)
    await add_agent(svc, "boss", role="supervisor", skills=["T1"], available=False)
    t3 = await svc.enqueue(bundle("complaint", intent="complaint", caller_number="0922333444"), "T3")
    async with httpx.AsyncClient(base_url=srv.url) as c:
        tok = await _login(c, "general")
        h = {"Authorization": f"Bearer {tok}"}
        c.cookies.clear()
        r = await c.get(f"/api/tickets/{t3.id}", headers=h)
        assert r.status_code == 403 and "0922333444" not in r.text
        assert [q["name"] for q in (await c.get("/api/queues", headers=h)).json()] == ["T1"]
        assert (await c.get("/api/supervisor", headers=h)).status_code == 403
        assert (await c.post(f"/api/tickets/{t3.id}/score", json={"score": 4}, headers=h)).status_code == 403
        stok = await _login(c, "boss")
        hs = {"Authorization": f"Bearer {stok}"}
        r = await c.get(f"/api/tickets/{t3.id}", headers=hs)
        assert r.status_code == 200 and r.json()["context"]["caller_number"] == "0922333444"
        assert len((await c.get("/api/queues", headers=hs)).json()) == 4
        sup = (await c.get("/api/supervisor", headers=hs)).json()
        assert {q["name"]: q["waiting"] for q in sup["queues"]}["T3"] == 1


async def test_desktop_actions_over_http(live):
    svc, srv = live
    await add_agent(svc, "doer", skills=["T1"], available=False)
    async with httpx.AsyncClient(base_url=srv.url) as c:
        await _login(c, "doer")
        assert (await c.post("/api/status", json={"status": "available"})).json()["status"] == "available"
        assert (await c.post("/api/status", json={"status": "busy"})).status_code == 400
        t = await svc.enqueue(bundle("http-call"), "T1")
        assert (await c.post(f"/api/tickets/{t.id}/accept")).json()["status"] == "connected"
        assert (await c.post(f"/api/tickets/{t.id}/accept")).status_code == 409
        r = await c.post(f"/api/tickets/{t.id}/wrapup", json={"disposition": "bogus"})
        assert r.status_code == 400 and "disposition" in r.json()["detail"]
        r = await c.post(f"/api/tickets/{t.id}/wrapup", json={"disposition": "resolved", "note": "ok"})
        assert r.json()["status"] == "done"
        t2 = await svc.enqueue(bundle("http-call-2"), "T1")
        assert (await c.post(f"/api/tickets/{t2.id}/decline")).json() == {"ok": True}
        assert (await c.post("/api/status", json={"status": "available"})).json()["ticket"] == t2.id  # offered again
        await c.post(f"/api/tickets/{t2.id}/accept")
        r = await c.post(f"/api/tickets/{t2.id}/transfer", json={"queue": "T2", "note": "App 問題，需技術協助"})
        assert r.json()["queue"] == "T2" and "需技術協助" in r.json()["notes"]
        assert (await c.post(f"/api/tickets/{t2.id}/transfer", json={"queue": "T9"})).status_code == 400
        assert (await c.get(f"/api/tickets/{t2.id}")).status_code == 200   # still on screen during wrap-up
        r = await c.post(f"/api/tickets/{t2.id}/wrapup", json={"disposition": "transferred"})
        assert r.status_code == 200 and (await c.get("/api/me")).json()["state"]["status"] == "available"
        assert (await c.get(f"/api/tickets/{t2.id}")).status_code == 403   # now in T2: no skill, not at this desk
    await svc.record_call_outcome("contained")
    await svc.record_call_outcome("transferred")
    stats = await svc.stats()
    assert stats["totals"]["bot_containment_rate"] == 0.5
    row = next(a for a in stats["agents"] if a["id"] == "doer")
    assert row["handled"] == 2 and row["resolution_rate"] == 0.5 and row["reply_rate"] == pytest.approx(2 / 3, abs=1e-3)
