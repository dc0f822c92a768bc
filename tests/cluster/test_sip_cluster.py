"""The cluster on loopback, for real: PostgreSQL (pg_ctl), Kamailio running
deploy/kamailio/kamailio.cfg as is (site values given with -A), three ivr
worker processes with real SIP/RTP (tests/cluster/worker.py), SIPp callers.

Checked: calls reach all three workers; kill -9 of one worker mid-call →
Kamailio takes it out of rotation, new calls go to the other two, the calls
on the survivors finish untouched, and the killed worker's finished calls and
the events of its interrupted call are all in PostgreSQL (closed as
``interrupted`` when the worker starts again, which brings it back into
rotation).

To see a failing run's messages: SIPp's in the test's tmp dir (sipp-TAG-msg.log,
errors in sipp-TAG.log); IVR_CLUSTER_LOG=debug puts every SIP message each worker
sends and receives in its wN.err (pytest --basetemp=DIR keeps them in DIR)."""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.transports.sip.harness import free_port

ROOT = Path(__file__).resolve().parents[2]
CFG = ROOT / "deploy" / "kamailio" / "kamailio.cfg"
HERE = Path(__file__).resolve().parent
KAMAILIO, KAMCMD, SIPP = shutil.which("kamailio"), shutil.which("kamcmd"), shutil.which("sipp")
PROBE_S = 1

pytestmark = [
    pytest.mark.skipif(not (KAMAILIO and KAMCMD), reason="needs Kamailio (Debian package kamailio)"),
    pytest.mark.skipif(SIPP is None, reason="needs SIPp (Debian package sip-tester)"),
    pytest.mark.timeout(300),
]


def _until(check: Callable[[], Any], what: str, seconds: float = 30.0) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.1)
    pytest.fail(f"not within {seconds} s: {what}")


@dataclass
class Cluster:
    tmp: Path
    pg: str
    ports: dict[str, int]
    kamailio_port: int
    ctl: str
    workers: dict[str, subprocess.Popen[str]] = field(default_factory=dict)

    def start_worker(self, wid: str) -> str:
        proc = subprocess.Popen([sys.executable, "-m", "tests.cluster.worker", str(self.ports[wid]), self.pg, wid],
                                cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE,
                                stderr=(self.tmp / f"{wid}.err").open("a"), text=True)
        self.workers[wid] = proc
        line = proc.stdout.readline() if proc.stdout else ""
        assert line.startswith("ready"), f"worker {wid} did not start: {(self.tmp / f'{wid}.err').read_text()[-800:]}"
        return line.strip()

    def flags(self) -> dict[int, str]:
        """Kamailio's view: worker port -> dispatcher flags (AP active, IP inactive)."""
        out = subprocess.run([KAMCMD, "-s", self.ctl, "dispatcher.list"], capture_output=True, text=True,
                             timeout=10).stdout
        pairs = re.findall(r"URI: sip:127\.0\.0\.1:(\d+)\s+FLAGS: (\w+)", out)
        return {int(p): f for p, f in pairs}

    def sipp(self, *, calls: int = 1, limit: int = 1, pause_ms: int = 1000, tag: str = "c",
             wait: bool = True) -> subprocess.Popen[str]:
        sf = self.tmp / f"call-{tag}.xml"
        sf.write_text((HERE / "call.xml").read_text(encoding="utf-8").replace("PAUSE_MS", str(pause_ms)),
                      encoding="utf-8")
        assert SIPP is not None
        cmd = [SIPP, f"127.0.0.1:{self.kamailio_port}", "-sf", str(sf), "-m", str(calls), "-l", str(limit),
               "-r", "10", "-i", "127.0.0.1", "-p", str(free_port()), "-mi", "127.0.0.1",
               "-mp", str(free_port(even=True)), "-nostdin", "-timeout", "60s", "-timeout_error",
               "-cid_str", f"{tag}-%u-%p@sipp", "-trace_err", "-error_file", str(self.tmp / f"sipp-{tag}.log"),
               "-trace_msg", "-message_file", str(self.tmp / f"sipp-{tag}-msg.log")]
        proc = subprocess.Popen(cmd, cwd=self.tmp, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                stdin=subprocess.DEVNULL)
        if wait:
            proc.wait(90)
        return proc

    def rows(self, sql: str, *args: Any) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.pg) as c:
            return c.execute(sql, args).fetchall()


@pytest.fixture
def cluster(tmp_path: Path, pg_server) -> Iterator[Cluster]:
    ports = {f"w{i}": free_port() for i in (1, 2, 3)}
    c = Cluster(tmp_path, pg_server.new_database("sip"), ports, free_port(), f"unix:{tmp_path}/ctl.sock")
    kam: subprocess.Popen[str] | None = None
    try:
        for wid in ports:
            c.start_worker(wid)
        (tmp_path / "dispatcher.list").write_text(
            "".join(f"1 sip:127.0.0.1:{p} 0 0 duid={w};maxload=50\n" for w, p in ports.items()), encoding="utf-8")
        assert KAMAILIO is not None
        kam = subprocess.Popen([KAMAILIO, "-DD", "-E", "-f", str(CFG), "-w", str(tmp_path), "-m", "64", "-M", "8",
                                "-A", f"LISTEN=udp:127.0.0.1:{c.kamailio_port}",
                                "-A", f'DISPATCHER_LIST="{tmp_path}/dispatcher.list"',
                                "-A", f'CTL_SOCKET="{c.ctl}"', "-A", f"PROBE_S={PROBE_S}"],
                               cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=(tmp_path / "kamailio.log").open("w"),
                               text=True)
        _until(lambda: kam.poll() is None and sorted(c.flags().values()) == ["AP"] * 3,
               "Kamailio up with three active workers")
        yield c
    finally:
        if kam is not None:
            kam.terminate()
            try:
                kam.wait(15)
            except subprocess.TimeoutExpired:
                kam.kill()
        for proc in c.workers.values():
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)


def _open_calls(c: Cluster) -> dict[str, str]:
    return dict(c.rows("SELECT call_id, worker FROM calls WHERE outcome IS NULL"))


def test_calls_spread_and_a_killed_worker_is_routed_around_with_nothing_lost(cluster: Cluster) -> None:
    c = cluster
    # 1. calls reach all three workers (spread by calls in progress)
    first = c.sipp(calls=6, limit=3, pause_ms=2000, tag="spread")
    assert first.returncode == 0, first.stdout.read() if first.stdout else ""
    _until(lambda: not _open_calls(c), "the first calls finished")
    by_worker = dict(c.rows("SELECT worker, COUNT(*) FROM calls GROUP BY 1"))
    assert set(by_worker) == {"w1", "w2", "w3"} and sum(by_worker.values()) == 6, by_worker
    finished_before = {w: {r[0] for r in c.rows("SELECT call_id FROM calls WHERE worker=%s AND outcome IS NOT NULL",
                                                 w)} for w in ("w1", "w2", "w3")}
    assert all(finished_before.values())

    # 2. three calls in progress; kill -9 the worker of one of them. Kamailio counts calls per worker
    # when it picks one; INVITEs racing each other may still land on the same worker, so the victim is
    # whichever worker has a call while another worker has one too.
    long_calls = []
    for i in range(3):
        long_calls.append(c.sipp(pause_ms=6000, tag=f"long{i}", wait=False))
        time.sleep(0.2)
    open_now = _until(lambda: o if len(o := _open_calls(c)) == 3 else None, "three calls in progress")
    _until(lambda: c.rows("SELECT COUNT(DISTINCT call_id) FROM events WHERE call_id = ANY(%s)",
                          list(open_now))[0][0] == 3, "each call past its greeting (a first event recorded)")
    victim = "w2" if "w2" in open_now.values() else next(iter(open_now.values()))
    assert set(open_now.values()) - {victim}, f"every call on one worker: {open_now}"
    victim_calls = sorted(cid for cid, w in open_now.items() if w == victim)
    c.workers[victim].send_signal(signal.SIGKILL)
    c.workers[victim].wait(10)
    t_kill = time.monotonic()
    # calls arriving before the probe noticed: an INVITE sent to the dead worker is retried on the next one
    during = c.sipp(calls=3, limit=3, pause_ms=300, tag="failover")
    assert during.returncode == 0, during.stdout.read() if during.stdout else ""
    _until(lambda: c.flags().get(c.ports[victim], "").startswith("I"), "Kamailio marks the killed worker inactive")
    print(f"killed worker out of rotation after {time.monotonic() - t_kill:.1f} s (probe every {PROBE_S} s)")

    # new calls go to the two survivors only, and all succeed
    after = c.sipp(calls=4, limit=2, pause_ms=500, tag="after")
    assert after.returncode == 0, after.stdout.read() if after.stdout else ""
    for i, p in enumerate(long_calls):
        p.wait(60)
        lost = any(cid.startswith(f"long{i}-") for cid in victim_calls)
        # the killed worker's callers lost their call (the BYE went nowhere); the survivors' ran to their BYE
        assert (p.returncode != 0) == lost, (i, p.returncode, open_now, c.rows(
            "SELECT c.call_id, duration, end_reason, e.kind, e.t FROM calls c JOIN events e USING (call_id) "
            "WHERE c.call_id LIKE %s ORDER BY e.seq", f"long{i}-%"), (c.tmp / f"sipp-long{i}.log").read_text()[:300])
    _until(lambda: set(_open_calls(c)) == set(victim_calls), "the survivors' calls finished")
    new = c.rows("SELECT worker, COUNT(*) FROM calls WHERE call_id LIKE 'after-%%' GROUP BY 1")
    assert victim not in {w for w, _ in new} and sum(n for _, n in new) == 4, new
    failover = c.rows("SELECT worker FROM calls WHERE call_id LIKE 'failover-%%'")
    assert len(failover) == 3 and victim not in {w for (w,) in failover}, failover

    # 3. nothing of the killed worker is lost: its finished calls, and its interrupted calls' events
    finished = {r[0] for r in c.rows("SELECT call_id FROM calls WHERE worker=%s AND outcome IS NOT NULL", victim)}
    assert finished >= finished_before[victim]
    events = {cid: c.rows("SELECT kind FROM events WHERE call_id=%s ORDER BY seq", cid) for cid in victim_calls}
    assert all(evs and evs[0][0] == "prompt" for evs in events.values()), events  # the greeting at least
    # restarted on this host, the worker closes its dead calls as interrupted, keeping every event
    assert c.start_worker(victim) == f"ready {victim} closed={len(victim_calls)}"
    for cid in victim_calls:
        assert c.rows("SELECT outcome, end_reason FROM calls WHERE call_id=%s", cid) == [("interrupted", "worker_died")]
        assert len(c.rows("SELECT kind FROM events WHERE call_id=%s", cid)) == len(events[cid])
    _until(lambda: c.flags().get(c.ports[victim], "").startswith("A"), "the restarted worker back in rotation")
