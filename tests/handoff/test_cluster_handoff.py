"""Handoff across workers: callers queued by two worker instances on one real
Redis are offered to an agent whose desktop is another process
(``ivr agents desktop --store redis://… --records postgresql://…``); queue
positions and agent presence are the same from every worker; the
supervisor view of that desktop reads every worker's events from a real
PostgreSQL."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ivr.handoff import HandoffService, open_store
from ivr.handoff.store.reporting import ReportingStore
from ivr.session.records_pg import PgRecordStore
from tests.handoff.helpers import PASSWORD, add_agent, bundle
from tests.redis_server import free_port, start_redis

ROOT = Path(__file__).resolve().parents[2]


class Desktop:
    """HTTP client of a desktop process, authenticated as one agent."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.token = ""

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json",
                                              **({"Authorization": f"Bearer {self.token}"} if self.token else {})})
        try:
            with urllib.request.urlopen(req, timeout=15) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def login(self, agent_id: str) -> None:
        status, body = self.call("POST", "/api/login", {"agent_id": agent_id, "password": PASSWORD})
        assert status == 200, body
        self.token = body["token"]


def _until(check: Callable[[], Any], what: str, seconds: float = 20.0) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.1)
    pytest.fail(f"not within {seconds} s: {what}")


@pytest.fixture
def cluster(tmp_path: Path, pg_server) -> Iterator[dict[str, Any]]:
    redis = start_redis(tmp_path)  # its own server: the desktop process uses the default key prefix
    pg = pg_server.new_database("desk")
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "ivr", "agents", "desktop", "--store", redis.url, "--records", pg,
                             "--listen", f"127.0.0.1:{port}"], cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        def up() -> bool:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                    return True
            except OSError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else "desktop exited"
                return False

        _until(up, "the desktop process answers", 60)
        yield {"redis": redis.url, "pg": pg, "desktop": f"http://127.0.0.1:{port}"}
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        redis.stop()


def _worker(cluster: dict[str, Any], worker: str) -> HandoffService:
    return HandoffService(ReportingStore(open_store(cluster["redis"]), PgRecordStore(cluster["pg"], worker=worker),
                                         close_log=True))


async def test_a_caller_queued_on_one_worker_is_taken_at_another_process_desktop(cluster) -> None:
    a, c = _worker(cluster, "w-a"), _worker(cluster, "w-c")
    try:
        await add_agent(a, "amy", available=False)
        await add_agent(c, "sue", role="supervisor", skills=["T1", "T2", "T3", "TQ"], available=False)
        t1 = await a.enqueue(bundle("call-on-a", caller_number="0912345678"), "T1")
        t2 = await c.enqueue(bundle("call-on-c"), "T1")
        # positions are cluster-wide: the same line from either worker
        assert [await a.position(t1), await a.position(t2)] == [1, 2] == [await c.position(t1), await c.position(t2)]

        amy = Desktop(cluster["desktop"])
        amy.login("amy")
        status, queues = amy.call("GET", "/api/queues")
        assert status == 200
        assert [w["ticket"] for w in next(q for q in queues if q["name"] == "T1")["waiting"]] == [t1.id, t2.id]
        assert amy.call("POST", "/api/status", {"status": "available"})[0] == 200
        # the desktop process routes: the first caller (queued by worker A) rings at amy's desk
        me = _until(lambda: (m := amy.call("GET", "/api/me")[1])["state"]["ticket"] == t1.id and m,
                    "worker A's caller offered at the desktop")
        assert me["state"]["status"] == "offered"
        assert (await a.agent("amy"))[1].status == "offered"  # presence seen by worker A
        assert await c.position(t2) == 1  # the line moved up for worker C's caller too
        status, view = amy.call("GET", f"/api/tickets/{t1.id}")
        assert status == 200 and view["context"]["call_id"] == "call-on-a"
        assert amy.call("POST", f"/api/tickets/{t1.id}/accept")[0] == 200
        t1_now = await a.status(t1)
        assert (t1_now.status, t1_now.agent) == ("connected", "amy")  # worker A sees its caller connected
        assert amy.call("POST", f"/api/tickets/{t1.id}/wrapup", {"disposition": "resolved"})[0] == 200

        # worker C's caller is next at amy's desk once she is free again
        _until(lambda: amy.call("GET", "/api/me")[1]["state"]["ticket"] == t2.id, "worker C's caller offered")

        # the supervisor's numbers on the desktop come from PostgreSQL: every worker's events
        sue = Desktop(cluster["desktop"])
        sue.login("sue")
        status, stats = sue.call("GET", "/api/supervisor")
        assert status == 200
        t1row = next(q for q in stats["queues"] if q["name"] == "T1")
        assert t1row["answered"] == 1 and t1row["average_handle_time"] is not None
        import psycopg

        with psycopg.connect(cluster["pg"]) as conn:
            rows = conn.execute("SELECT worker, type FROM handoff_events ORDER BY id").fetchall()
        kinds = {(w, t) for w, t in rows}
        assert {("w-a", "enqueued"), ("w-c", "enqueued"), ("desktop", "accepted"), ("desktop", "wrapped")} <= kinds
    finally:
        for svc in (a, c):
            svc.store.close()
