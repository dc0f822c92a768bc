"""The desktop under attack, on a real uvicorn: a password flood locks out the
flooding address and not the agent, unknown ids cost no argon2, hashing runs
in its own bounded pool, limiter tables stay bounded, cross-origin requests
and tokens in URLs are refused, cookies are Secure over TLS, and a Redis
password never reaches a response, the CLI or the logs."""
from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
import threading

import httpx
import pytest
import websockets
from fastapi.testclient import TestClient

from ivr.handoff import HandoffService, create_app, open_store
from ivr.handoff.desktop.guard import LoginGuard, same_origin
from tests.redis_server import start_redis

from .desktop_server import LiveServer
from .helpers import PASSWORD, add_agent


def client_at(srv: LiveServer, ip: str, **kw) -> httpx.AsyncClient:
    """A client whose connections come from ``ip`` (any 127.x address reaches the loopback server)."""
    return httpx.AsyncClient(base_url=srv.url, transport=httpx.AsyncHTTPTransport(local_address=ip), **kw)


@pytest.fixture
def sqlite_service(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'q.db'}")
    yield HandoffService(store, offer_timeout=600)
    store.close()


async def test_flood_locks_out_the_attacker_not_the_agent(sqlite_service):
    svc = sqlite_service
    await add_agent(svc, "alice", available=False)
    with LiveServer(create_app(svc, run_ticker=False)) as srv:
        async with client_at(srv, "127.0.0.2") as attacker:
            codes = [(await attacker.post("/api/login", json={"agent_id": "alice", "password": f"guess {i}"})).status_code
                     for i in range(8)]
        assert codes[:5] == [401] * 5 and set(codes[5:]) == {429}
        async with client_at(srv, "127.0.0.3") as alice:
            r = await alice.post("/api/login", json={"agent_id": "alice", "password": PASSWORD})
            assert r.status_code == 200, r.text
        async with client_at(srv, "127.0.0.2") as attacker:  # still locked, even with the right password
            r = await attacker.post("/api/login", json={"agent_id": "alice", "password": PASSWORD})
            assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1


async def test_unknown_ids_cost_no_argon2_and_known_ones_hash_off_the_call_pool(sqlite_service, monkeypatch):
    import ivr.handoff.auth as auth

    svc = sqlite_service
    await add_agent(svc, "bob", available=False)
    threads: list[str] = []
    real = auth.verify_password

    def spy(hashed: str, password: str) -> bool:
        threads.append(threading.current_thread().name)
        return real(hashed, password)

    monkeypatch.setattr(auth, "verify_password", spy)
    guard = LoginGuard(global_per_second=1000, global_burst=1000, free_failures=1000)
    with LiveServer(create_app(svc, run_ticker=False, guard=guard)) as srv:
        async with httpx.AsyncClient(base_url=srv.url) as c:
            for i in range(30):
                r = await c.post("/api/login", json={"agent_id": f"nobody{i}", "password": "x" * 200})
                assert r.status_code == 401
            assert svc.passwords.runs == 0 and threads == []
            assert (await c.post("/api/login", json={"agent_id": "bob", "password": "wrong one"})).status_code == 401
            assert (await c.post("/api/login", json={"agent_id": "bob", "password": PASSWORD})).status_code == 200
    assert svc.passwords.runs == 2 and len(threads) == 2
    assert all(t.startswith("argon2") for t in threads), threads


async def test_hashing_pool_is_bounded_503_when_full(sqlite_service):
    svc = sqlite_service
    await add_agent(svc, "carol", available=False)
    guard = LoginGuard(global_per_second=1000, global_burst=1000, free_failures=1000)
    with LiveServer(create_app(svc, run_ticker=False, guard=guard)) as srv:
        async with httpx.AsyncClient(base_url=srv.url, timeout=60,
                                     limits=httpx.Limits(max_connections=40)) as c:
            rs = await asyncio.gather(*(c.post("/api/login", json={"agent_id": "carol", "password": f"bad {i}"})
                                        for i in range(30)))
    codes = sorted(r.status_code for r in rs)
    assert set(codes) <= {401, 503} and codes.count(503) >= 1, codes
    assert codes.count(401) <= 30 - codes.count(503)
    assert svc.passwords.refused == codes.count(503)


def test_limiter_tables_are_bounded_and_limits_hold():
    now = [0.0]
    g = LoginGuard(max_clients=100, global_per_second=5, global_burst=10, clock=lambda: now[0])
    for i in range(10_000):
        g.failed(f"10.0.{i // 256}.{i % 256}")
        now[0] += 0.001
    assert len(g) <= 101
    # global budget: a burst of 10, then about 5 per second
    now[0] += 100
    allowed = sum(g.retry_after(f"192.168.0.{i}")[0] == 0 for i in range(50))
    assert allowed == 10 and g.refused_global == 40
    now[0] += 1.0
    assert sum(g.retry_after("192.168.1.1")[0] == 0 for _ in range(20)) == 5
    # per-client backoff doubles past the free failures, then is forgotten on success
    g2 = LoginGuard(free_failures=2, lock_seconds=10, clock=lambda: now[0])
    g2.failed("a")
    g2.failed("a")
    assert g2.retry_after("a") == (pytest.approx(10), "client")
    now[0] += 10
    g2.failed("a")
    assert g2.retry_after("a")[0] == pytest.approx(20)
    g2.succeeded("a")
    assert g2.retry_after("a")[0] == 0


def test_same_origin_rules():
    assert same_origin({"host": "desk:8080"})  # scripts send no Origin
    assert same_origin({"host": "desk:8080", "origin": "http://desk:8080"})
    assert same_origin({"host": "desk:8080", "origin": "https://desk:8080"})
    assert not same_origin({"host": "desk:8080", "origin": "http://evil.example"})
    assert not same_origin({"host": "desk:8080", "origin": "null"})
    assert same_origin({"host": "desk:8080", "origin": "https://sso.bank"}, frozenset({"https://sso.bank"}))


async def test_cross_origin_and_url_tokens_are_refused(sqlite_service):
    svc = sqlite_service
    await add_agent(svc, "dave", available=False)
    with LiveServer(create_app(svc, run_ticker=False)) as srv:
        host = srv.url.removeprefix("http://")
        async with httpx.AsyncClient(base_url=srv.url) as c:
            r = await c.post("/api/login", json={"agent_id": "dave", "password": PASSWORD},
                             headers={"Origin": "http://evil.example"})
            assert r.status_code == 403
            r = await c.post("/api/login", json={"agent_id": "dave", "password": PASSWORD},
                             headers={"Origin": f"http://{host}"})
            assert r.status_code == 200
            token = r.json()["token"]
            r = await c.post("/api/status", json={"status": "available"}, headers={"Origin": "http://evil.example"})
            assert r.status_code == 403 and (await svc.agent("dave"))[1].status == "away"
            assert (await c.post("/api/status", json={"status": "available"})).status_code == 200
            c.cookies.clear()
            r = await c.get(f"/api/me?token={token}")
            assert r.status_code == 400 and "URL" in r.json()["detail"]
        ws_url = srv.url.replace("http", "ws") + "/ws"
        cookie = {"Cookie": f"ivr_session={token}"}
        for url, headers in ((ws_url, {**cookie, "Origin": "http://evil.example"}),
                             (ws_url + f"?token={token}", {})):
            with pytest.raises(websockets.exceptions.InvalidStatus) as e:
                async with websockets.connect(url, additional_headers=headers):
                    pass
            assert e.value.response.status_code == 403
        async with websockets.connect(ws_url, additional_headers={**cookie, "Origin": f"http://{host}"}) as ws:
            assert '"snapshot"' in await asyncio.wait_for(ws.recv(), 10)


def test_cookie_is_secure_over_tls(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'q.db'}")
    svc = HandoffService(store)
    asyncio.run(add_agent(svc, "erin", available=False))
    for base, secure in (("https://desk.bank", True), ("http://desk.bank", False)):
        with TestClient(create_app(svc, run_ticker=False), base_url=base) as c:
            r = c.post("/api/login", json={"agent_id": "erin", "password": PASSWORD})
            assert r.status_code == 200
            assert ("secure" in r.headers["set-cookie"].lower()) is secure, r.headers["set-cookie"]
    store.close()


# -- the Redis password -------------------------------------------------------
SECRET = "s3cr3t-Redis-pw"


@pytest.fixture(scope="module")
def redis_with_password(tmp_path_factory):
    server = start_redis(tmp_path_factory.mktemp("redis-pw"), password=SECRET)
    yield server.url, server.port
    server.stop()


async def test_redis_password_never_shown(redis_with_password):
    from ivr.log import get_logger, setup_logging

    url, _port = redis_with_password
    store = open_store(url, prefix="pwtest:")
    svc = HandoffService(store)
    assert SECRET not in store.url and "***" in store.url
    await add_agent(svc, "frank", available=False)
    buf = io.StringIO()
    setup_logging("info", stream=buf)
    try:
        with LiveServer(create_app(svc, run_ticker=False)) as srv:
            async with httpx.AsyncClient(base_url=srv.url) as c:
                await c.post("/api/login", json={"agent_id": "frank", "password": PASSWORD})
                r = await c.get("/api/tickets/no-such-ticket")
                assert r.status_code == 404 and SECRET not in r.text
                r = await c.post("/api/tickets/no-such/accept")
                assert r.status_code in (404, 409) and SECRET not in r.text
        get_logger("ivr.test").error("store %s failed: %s", url, f"Error connecting to {url}")
    finally:
        setup_logging("warning")
        store.clear()
        store.close()
    assert SECRET not in buf.getvalue() and "redis://:***@" in buf.getvalue()


def test_redis_password_not_in_cli_output(redis_with_password):
    url, port = redis_with_password
    env = {**os.environ, "IVR_HANDOFF_STORE": url}
    for argv, stdin in ((["agents", "add", "gina", "--name", "Gina", "--password-stdin", "--store", url], PASSWORD + "\n"),
                        (["agents", "list", "--store", url], ""),
                        (["agents", "remove", "nobody-here", "--store", url], ""),
                        (["agents", "list", "--store", f"redis://:{SECRET}@127.0.0.1:1/0"], "")):
        p = subprocess.run([sys.executable, "-m", "ivr", *argv], input=stdin, capture_output=True, text=True,
                           timeout=60, env={**env, "COLUMNS": "200"})
        out = p.stdout + p.stderr
        assert SECRET not in out, (argv, out)
        assert "Traceback" not in out, out
    import redis

    redis.Redis(host="127.0.0.1", port=port, password=SECRET).flushdb()


def test_known_desks_get_past_a_distributed_flood():
    now = [0.0]
    g = LoginGuard(global_per_second=1, global_burst=2, clock=lambda: now[0])
    g.succeeded("10.1.1.7")                     # a desk that logged in yesterday
    now[0] += 86_400
    assert [g.retry_after(f"203.0.113.{i}")[1] for i in range(5)] == ["", "", "global", "global", "global"]
    assert g.retry_after("10.1.1.7") == (0.0, "")  # the flood does not keep the agent out
    assert g.retry_after("10.1.1.8")[1] == "global"


async def test_hash_pool_keeps_a_slot_for_known_desks():
    from ivr.handoff.auth import HasherBusy, PasswordPool

    pool = PasswordPool(workers=1, queue=1)
    gate = threading.Event()
    blocked = [asyncio.ensure_future(pool._run(lambda _: gate.wait(10), "x")) for _ in range(2)]
    await asyncio.sleep(0.05)
    with pytest.raises(HasherBusy):
        await pool._run(lambda _: True, "stranger")
    desk = asyncio.ensure_future(pool._run(lambda _: "desk ok", "desk", priority=True))
    await asyncio.sleep(0.05)
    gate.set()
    assert await asyncio.wait_for(desk, 10) == "desk ok"
    await asyncio.gather(*blocked)
    assert pool.refused == 1
    pool.close()


@pytest.fixture
def own_redis(tmp_path):
    from tests.session.test_store_outage import redis_process

    yield from redis_process(tmp_path)


async def test_desktop_answers_503_while_the_store_hangs(own_redis):
    import signal

    proc, url = own_redis
    store = open_store(url, prefix="d503:", timeout=0.5)
    svc = HandoffService(store)
    await add_agent(svc, "hank", available=False)
    try:
        with LiveServer(create_app(svc, run_ticker=False)) as srv:
            async with httpx.AsyncClient(base_url=srv.url, timeout=30) as c:
                r = await c.post("/api/login", json={"agent_id": "hank", "password": PASSWORD})
                assert r.status_code == 200
                os.kill(proc.pid, signal.SIGSTOP)
                try:
                    rs = [await c.get("/api/queues") for _ in range(3)]
                finally:
                    os.kill(proc.pid, signal.SIGCONT)
                assert [r.status_code for r in rs] == [503] * 3 and "unavailable" in rs[0].text
                assert (await c.get("/api/queues")).status_code == 200
    finally:
        store.clear()
        store.close()
