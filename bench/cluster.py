"""Cluster benchmark: what the front door and the shared stores cost.

Two set-ups on this machine, each taking the same SIPp calls (INVITE, answer,
1 s of call, BYE; the workers' speech parts are the tests' fakes, so a call
costs SIP, RTP, the session loop and its records, not a speech model):

- standalone: one worker, call records in SQLite, SIPp straight at it;
- cluster: Kamailio (deploy/kamailio/kamailio.cfg as is) in front of three
  workers whose records go to PostgreSQL (fsync on).

At rising concurrency it reports calls/s completed, call setup time (INVITE →
200 OK, SIPp's response-time trace) p50/p95, and CPU seconds per call of
every server process (workers, Kamailio, PostgreSQL; not SIPp). Then, in the
cluster, one worker is killed with kill -9 while calls run, and the calls
that still succeed are counted.

    python bench/cluster.py                 # -> bench/results/cluster.json
    python bench/cluster.py --calls 60 --levels 3,6,12
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.pg_server import PgServer, remove, start_postgres  # noqa: E402
from tests.transports.sip.harness import free_port  # noqa: E402

OUT = ROOT / "bench" / "results" / "cluster.json"
TICK = os.sysconf("SC_CLK_TCK")
IDLE_S = 5.0
CALL = (ROOT / "tests" / "cluster" / "call.xml").read_text(encoding="utf-8")


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()


def cpu_seconds(roots: list[int]) -> float:
    """CPU of ``roots`` and every live descendant, plus the children they reaped."""
    parent: dict[int, int] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit() and (st := _stat(int(d.name))):
            parent[int(d.name)] = int(st[1])
    tree, todo = set(), list(roots)
    while todo:
        p = todo.pop()
        if p in tree:
            continue
        tree.add(p)
        todo.extend(c for c, pp in parent.items() if pp == p)
    ticks = 0
    for p in tree:
        st = _stat(p)
        if st:
            ticks += int(st[11]) + int(st[12]) + (int(st[13]) + int(st[14]) if p in roots else 0)
    return ticks / TICK


class Worker:
    def __init__(self, records: str, wid: str, tmp: Path) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.cluster.worker", str(self.port), records, wid],
                                     cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE,
                                     stderr=(tmp / f"{wid}.err").open("w"), text=True)
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        if not line.startswith("ready"):
            raise RuntimeError(f"worker {wid} did not start: {(tmp / f'{wid}.err').read_text()[-500:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def sipp(tmp: Path, port: int, calls: int, limit: int, tag: str, pause_ms: int = 1000) -> dict:
    scen = CALL.replace("PAUSE_MS", str(pause_ms)).replace('<send retrans="500">\n    <![CDATA[\n      INVITE',
                                                            '<send retrans="500" start_rtd="1">\n    <![CDATA[\n      INVITE')
    scen = scen.replace('<recv response="200" rrs="true">', '<recv response="200" rrs="true" rtd="1">')
    sf = tmp / f"{tag}.xml"
    sf.write_text(scen, encoding="utf-8")
    sipp_exe = shutil.which("sipp")
    assert sipp_exe
    t0 = time.perf_counter()
    p = subprocess.run([sipp_exe, f"127.0.0.1:{port}", "-sf", str(sf), "-m", str(calls), "-l", str(limit),
                        "-r", str(limit), "-i", "127.0.0.1", "-p", str(free_port()), "-mi", "127.0.0.1",
                        "-mp", str(free_port(even=True)), "-nostdin", "-timeout", "300s", "-trace_rtt", "-trace_err",
                        "-error_file", str(tmp / f"{tag}-errors.log"),
                        "-rtt_freq", "1", "-cid_str", f"{tag}-%u-%p@sipp", "-max_socket", "200"],
                       cwd=tmp, capture_output=True, text=True, timeout=330, stdin=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    ok = failed = 0
    for line in p.stdout.splitlines():
        cells = [c.strip() for c in line.split("|")]
        if cells and cells[0] == "Successful call":
            ok = int(cells[-1])
        elif cells and cells[0] == "Failed call":
            failed = int(cells[-1])
    setup: list[float] = []
    for f in tmp.glob(f"{tag}_*_rtt.csv"):
        for row in f.read_text().splitlines()[1:]:
            parts = row.split(";")
            if len(parts) >= 3 and parts[1].strip():
                setup.append(float(parts[1]))
    setup.sort()

    def pct(q: float) -> float | None:
        return round(setup[min(len(setup) - 1, round(q * (len(setup) - 1)))], 1) if setup else None

    if ok + failed == 0:
        print(f"sipp {tag} ran no call (exit {p.returncode}): {(p.stderr or p.stdout)[-600:]}", flush=True)
    errors = tmp / f"{tag}-errors.log"
    first_error = next((ln for ln in (errors.read_text(errors="replace").splitlines() if errors.exists() else [])
                        if ln[:4].isdigit()), None)
    return {"calls": calls, "concurrency": limit, "ok": ok, "failed": failed, "wall_s": round(wall, 2),
            "first_error": first_error[:300] if failed and first_error else None,
            "calls_per_s": round(ok / wall, 2) if wall else None, "setup_ms_p50": pct(0.5), "setup_ms_p95": pct(0.95)}


def kamailio(tmp: Path, workers: list[Worker]) -> tuple[subprocess.Popen[str], int]:
    exe = shutil.which("kamailio")
    assert exe
    port = free_port()
    (tmp / "ds.list").write_text("".join(f"1 sip:127.0.0.1:{w.port} 0 0 duid=w{i};maxload=200\n"
                                         for i, w in enumerate(workers, 1)), encoding="utf-8")
    proc = subprocess.Popen([exe, "-DD", "-E", "-f", str(ROOT / "deploy" / "kamailio" / "kamailio.cfg"),
                             "-w", str(tmp), "-m", "64", "-M", "8", "-A", f"LISTEN=udp:127.0.0.1:{port}",
                             "-A", f'DISPATCHER_LIST="{tmp}/ds.list"', "-A", f'CTL_SOCKET="unix:{tmp}/ctl.sock"',
                             "-A", "PROBE_S=1"], cwd=tmp, stdout=subprocess.DEVNULL,
                            stderr=(tmp / "kamailio.log").open("w"), text=True)
    time.sleep(3)  # probes answered: every worker in rotation
    return proc, port


def postmaster(server: PgServer) -> int:
    return int((server.data / "postmaster.pid").read_text().split()[0])


def run_levels(tmp: Path, port: int, groups: dict[str, list[int]], levels: list[int], calls: int,
               name: str) -> list[dict]:
    """``groups``: server processes by role (workers, kamailio, postgresql), their CPU reported apart; each
    role's idle CPU (measured over IDLE_S before the calls) is reported too, and the per-call figures net of it."""
    out = []
    cpu0 = {g: cpu_seconds(roots) for g, roots in groups.items()}
    time.sleep(IDLE_S)
    idle = {g: (cpu_seconds(roots) - cpu0[g]) / IDLE_S for g, roots in groups.items()}
    for level in levels:
        cpu0 = {g: cpu_seconds(roots) for g, roots in groups.items()}
        r = sipp(tmp, port, calls, level, f"{name}{level}")
        time.sleep(1.0)  # the workers finish the calls' records
        wall = r["wall_s"] + 1.0
        used = {g: cpu_seconds(roots) - cpu0[g] for g, roots in groups.items()}
        per = {g: round(used[g] / max(1, r["ok"]), 4) for g in groups}
        net = {g: round(max(0.0, used[g] - idle[g] * wall) / max(1, r["ok"]), 4) for g in groups}
        r["idle_cpu_s_per_s_by_role"] = {g: round(v, 4) for g, v in idle.items()}
        r["cpu_s_per_call_by_role"], r["cpu_s_per_call_net_of_idle_by_role"] = per, net
        r["cpu_s_per_call"], r["cpu_s_per_call_net_of_idle"] = round(sum(per.values()), 4), round(sum(net.values()), 4)
        print(f"{name:10s} concurrency {level:3d}: {r['ok']}/{calls} ok, {r['failed']} failed, "
              f"{r['calls_per_s']} calls/s, setup p50 {r['setup_ms_p50']} ms p95 {r['setup_ms_p95']} ms, "
              f"{r['cpu_s_per_call']} CPU s/call {per}; net of idle {r['cpu_s_per_call_net_of_idle']} {net}",
              flush=True)
        out.append(r)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=30, help="calls per concurrency level")
    ap.add_argument("--levels", default="3,6,12")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    if not (shutil.which("kamailio") and shutil.which("sipp")):
        print("needs kamailio and sipp (Debian packages kamailio, sip-tester)")
        return 2
    doc: dict = {"bench": "cluster", "load_average_1m_start": os.getloadavg()[0], "calls_per_level": args.calls}
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        alone = Worker(f"sqlite:///{tmp}/calls.sqlite3", "alone", tmp)
        try:
            doc["standalone"] = run_levels(tmp, alone.port, {"workers": [alone.proc.pid]}, levels, args.calls,
                                           "standalone")
        finally:
            alone.stop()
        server = start_postgres(durable=True)
        workers: list[Worker] = []
        kam = None
        try:
            url = server.new_database("cluster")
            workers = [Worker(url, f"w{i}", tmp) for i in (1, 2, 3)]
            kam, kport = kamailio(tmp, workers)
            roles = {"workers": [w.proc.pid for w in workers], "kamailio": [kam.pid],
                     "postgresql": [postmaster(server)]}
            doc["cluster"] = run_levels(tmp, kport, roles, levels, args.calls, "cluster")
            # one worker killed while calls run
            victim = workers[1]
            import threading

            result: dict = {}
            th = threading.Thread(target=lambda: result.update(sipp(tmp, kport, args.calls, 6, "kill")))
            th.start()
            time.sleep(2.0)
            victim.proc.send_signal(signal.SIGKILL)
            th.join(330)
            result["killed_worker"] = "w2"
            print(f"cluster, w2 killed at 2 s: {result.get('ok')}/{args.calls} ok, {result.get('failed')} failed, "
                  f"setup p95 {result.get('setup_ms_p95')} ms", flush=True)
            doc["cluster_one_killed"] = result
        finally:
            if kam is not None:
                kam.terminate()
                kam.wait(15)
            for w in workers:
                w.stop()
            remove(server)
    def overhead(key: str) -> list[float | None]:
        return [round(c[key] / a[key] - 1, 3) if a[key] and c["ok"] else None
                for a, c in zip(doc["standalone"], doc["cluster"], strict=True)]

    doc["cluster_cpu_overhead"] = overhead("cpu_s_per_call")
    doc["cluster_cpu_overhead_net_of_idle"] = overhead("cpu_s_per_call_net_of_idle")
    doc["goal"] = "front door and shared stores add < 10 % CPU per call (cluster vs standalone, all server processes)"
    doc["verdict"] = "met" if all(o is not None and o < 0.10 for o in doc["cluster_cpu_overhead"]) else "missed"
    doc["load_average_1m_end"] = os.getloadavg()[0]
    print(f"cluster CPU per call vs standalone: {doc['cluster_cpu_overhead']}, net of idle "
          f"{doc['cluster_cpu_overhead_net_of_idle']} (goal < 10 %: {doc['verdict']})")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
