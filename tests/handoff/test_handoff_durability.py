"""kill -9 a worker with calls queued, restart: nothing lost, order kept."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

from ivr.handoff import open_store

WORKER = Path(__file__).with_name("queue_worker.py")
ROOT = Path(__file__).resolve().parents[2]


def _run(cmd: str, url: str, prefix: str, **kw):
    return subprocess.Popen([sys.executable, str(WORKER), cmd, url, prefix], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True, **kw)


def test_kill_9_keeps_every_queued_handoff_in_order(store_url):
    prefix = f"k{uuid.uuid4().hex[:8]}:"
    worker = _run("enqueue", store_url, prefix)
    acked = [worker.stdout.readline().strip() for _ in range(25)]
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(10)
    assert worker.returncode == -signal.SIGKILL
    rest = worker.stdout.read().split()   # lines already written before the kill
    acked += rest
    assert all(acked)

    restarted = _run("list", store_url, prefix)
    out, _ = restarted.communicate(timeout=60)
    rows = [line.split() for line in out.splitlines()]
    ids = [r[0] for r in rows]
    # Every handoff the worker acknowledged is there; at most one more (committed,
    # killed before it printed) may follow.
    assert set(acked) <= set(ids) and len(ids) - len(acked) <= 1
    # Served order: priority 3 callers (every 5th) first, each group in arrival order.
    call_no = [int(r[2].split("-")[1]) for r in rows]
    prios = [int(r[1]) for r in rows]
    assert prios == sorted(prios, reverse=True)
    high = [c for c, p in zip(call_no, prios, strict=True) if p == 3]
    low = [c for c, p in zip(call_no, prios, strict=True) if p == 0]
    assert high == sorted(high) and low == sorted(low)
    assert sorted(call_no) == list(range(len(call_no)))
    if store_url.startswith("redis"):
        open_store(store_url, prefix=prefix).clear()


async def test_offer_left_ringing_by_a_dead_worker_comes_back_in_place(store, clock):
    """A worker offered a call and died before the agent answered: a new
    worker's tick puts the call back at the head of its queue."""
    from ivr.handoff import HandoffService

    from .helpers import add_agent, bundle

    dead = HandoffService(store, now=clock, offer_timeout=30)
    await add_agent(dead, "gone")
    first = await dead.enqueue(bundle("first"), "T1")
    second = await dead.enqueue(bundle("second"), "T1")
    assert (await dead.status(first)).offered_to == "gone"
    del dead
    fresh = HandoffService(store, now=clock, offer_timeout=30)
    clock.advance(31)
    await fresh.tick()
    assert [await fresh.position(t) for t in (first, second)] == [1, 2]
    assert (await fresh.agent("gone"))[1].status == "away"
