"""Outbound campaign benchmark, in two parts.

1. **Schedule** (virtual clock, ``--contacts``, default 1,000): a campaign of
   the shipped shape (Taipei windows, the 2026 holidays, a DNC list, 4
   attempts, retry spacing per result) in progressive mode with ``--agents``
   agents, callees answering / busy / no answer / voicemail at random
   (seeded). Checks every dial against the rules — dials outside a window,
   dials to DNC numbers, retries sooner than their spacing, calls in flight
   over the limit: each must be exactly 0 — and reports the abandoned rate
   against its ceiling and the agents' idle share.
2. **SIP** (``--sip-contacts``, default 40; 0 skips it): real calls on loopback
   to four SIPp callees (a person saying "喂" then keys, a voicemail greeting,
   busy, never answering), through ``SipCampaignDialer`` with AMD at pickup:
   dial rate achieved, AMD accuracy (human vs machine), outcomes right.

Prints a summary and writes bench/results/campaign.json."""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import platform
import random
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ivr.clock import RealClock, VirtualClock  # noqa: E402
from ivr.outbound import CampaignRun, FakeDialer, load_campaign, read_contacts  # noqa: E402
from ivr.outbound.calling_hours import CallingCalendar  # noqa: E402
from ivr.outbound.contacts import DoNotCall  # noqa: E402
from ivr.outbound.dialer import Dialer, DialRequest, DialResult  # noqa: E402
from ivr.outbound.pacing import AgentPool  # noqa: E402
from ivr.outbound.simulate import drive  # noqa: E402

MON_0900 = dt.datetime(2026, 12, 7, 9, 0, tzinfo=ZoneInfo("Asia/Taipei")).timestamp()


def write_campaign(d: Path, contacts: int, agents: int, ceiling: float, in_flight: int, dnc_every: int) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    (d / "list.csv").write_text("id,number,amount\n" + "".join(
        f"B{i:05d},09{i:08d},{1000 + i}\n" for i in range(contacts)), encoding="utf-8")
    (d / "dnc.txt").write_text("".join(f"09{i:08d}\n" for i in range(0, contacts, dnc_every)), encoding="utf-8")
    (d / "holidays.txt").write_text((ROOT / "campaigns" / "holidays-tw-2026.txt").read_text(encoding="utf-8"),
                                    encoding="utf-8")
    (d / "c.yaml").write_text(f"""campaign: bench
flow: payment_reminder
caller_id: "0227181234"
list: list.csv
windows:
  - {{days: [mon, tue, wed, thu, fri], from: "09:00", to: "21:00"}}
  - {{days: [sat], from: "10:00", to: "18:00"}}
holidays: holidays.txt
dnc: dnc.txt
max_attempts: 4
retry_minutes: {{no_answer: 60, busy: 10, voicemail: 240, failed: 30}}
on_voicemail: retry
pacing: {{max_in_flight: {in_flight}, calls_per_second: 2}}
progressive: {{agents: {agents}, abandon_seconds: 2, abandon_ceiling: {ceiling}}}
""", encoding="utf-8")
    return d / "c.yaml"


def schedule_part(a: argparse.Namespace, tmp: Path) -> dict[str, object]:
    campaign = load_campaign(write_campaign(tmp / "sched", a.contacts, a.agents, a.ceiling, a.in_flight, 27))
    contacts = read_contacts(campaign.list_path)
    clock = VirtualClock()
    pool = AgentPool(clock, a.agents)
    rng = random.Random(a.seed)
    ends: dict[tuple[str, int], tuple[float, str]] = {}

    class Callees(FakeDialer):
        async def dial(self, req: DialRequest) -> DialResult:
            self.placed.append((clock.now(), req))
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            try:
                r = await self._call(req)
                ends[(req.contact_id, req.attempt)] = (MON_0900 + clock.now(), r.outcome)
                return r
            finally:
                self.in_flight -= 1

        async def _call(self, req: DialRequest) -> DialResult:
            x = rng.random()
            if x < 0.2:
                await clock.sleep(30.0)
                return DialResult("no_answer")
            if x < 0.3:
                await clock.sleep(3.0)
                return DialResult("busy")
            if x < 0.45:
                await clock.sleep(25.0)
                return DialResult("voicemail")
            await clock.sleep(rng.uniform(20, 40))  # the flow until the callee asks for a person (or not)
            if rng.random() < 0.5:
                await clock.sleep(rng.uniform(30, 90))
                return DialResult("answered", flow_result="promised_to_pay")
            if not await pool.take(campaign.spec.progressive.abandon_seconds):  # type: ignore[union-attr]
                return DialResult("answered", abandoned=True)
            talk = rng.uniform(90, 240)
            await clock.sleep(talk)
            pool.release(talk)
            return DialResult("answered", transferred=True)

    dialer = Callees(clock, lambda r: (DialResult("failed"), 0.0))
    run = CampaignRun(campaign, contacts, dialer, clock, epoch=MON_0900)
    t0 = time.perf_counter()
    report = asyncio.run(drive(clock, run.run()))
    cpu = time.perf_counter() - t0
    cal = CallingCalendar(campaign.spec.windows, campaign.holidays)
    dnc = DoNotCall(campaign.dnc_path)
    outside = sum(1 for t, _ in dialer.placed if not cal.is_open(MON_0900 + t))
    to_dnc = sum(1 for _, r in dialer.placed if dnc.blocked(r.number))
    early = 0
    for t, r in dialer.placed:
        if r.attempt > 1:
            prev_end, prev_outcome = ends[(r.contact_id, r.attempt - 1)]
            early += MON_0900 + t < prev_end + campaign.retry_seconds(prev_outcome) - 1e-6
    span = clock.now()
    open_s = sum(60.0 for m in range(int(span // 60) + 1) if cal.is_open(MON_0900 + 60 * m))
    return {"contacts": a.contacts, "dials": report.dials, "totals": report.totals,
            "virtual_hours": round(span / 3600, 1), "cpu_seconds": round(cpu, 2),
            "dials_outside_window": outside, "dials_to_dnc": to_dnc, "retries_too_soon": early,
            "max_in_flight": dialer.max_in_flight, "in_flight_limit": a.in_flight,
            "abandoned_rate": round(run.pacer.rate, 4), "abandon_ceiling": a.ceiling,
            "lowest_in_flight_limit": run.pacer.lowest, "agents": a.agents,
            "agent_idle_share": round(1 - pool.busy_seconds / (a.agents * open_s), 3) if open_s else None}


class Router(Dialer):
    """One campaign dialer per SIPp callee, chosen by the number's last digit."""

    def __init__(self, dialers: list[Dialer]) -> None:
        self.dialers = dialers
        self.results: list[tuple[str, DialResult]] = []

    async def dial(self, request: DialRequest) -> DialResult:
        r = await self.dialers[int(request.number[-1]) % len(self.dialers)].dial(request)
        self.results.append((request.number, r))
        return r


def sip_part(a: argparse.Namespace, tmp: Path) -> dict[str, object]:
    from ivr.outbound.actions import CampaignCalls
    from ivr.outbound.sip_dialer import SipCampaignDialer
    from ivr.transports.sip import SipDialer
    from tests.outbound.test_sip_campaign import GREETING, HELLO, MESSAGE, scenario
    from tests.transports.sip.harness import SipServerThread, free_port
    from tests.transports.sip.pcap import wav_to_pcap

    d = tmp / "sip"
    d.mkdir()
    n = a.sip_contacts - a.sip_contacts % 4
    per = n // 4
    hello, greeting = wav_to_pcap(HELLO, d / "hello.pcap"), wav_to_pcap(GREETING, d / "greeting.pcap")
    kinds = [("human", scenario(d, "uas_pickup.xml", GREETING_PCAP=str(hello), KEYS_PAUSE_MS="3500")),
             ("machine", scenario(d, "uas_voicemail.xml", GREETING_PCAP=str(greeting))),
             ("busy", (ROOT / "tests" / "transports" / "sip" / "uas_busy.xml")),
             ("no_answer", scenario(d, "uas_no_answer.xml"))]
    want = {"human": "answered", "machine": "voicemail", "busy": "busy", "no_answer": "no_answer"}
    import subprocess

    ports = [free_port() for _ in kinds]
    procs = []
    for i, (_, sf) in enumerate(kinds):  # each callee answers `per` calls, then exits
        (d / str(i)).mkdir()
        cmd = ["sipp", "-sf", str(sf), "-m", str(per), "-i", "127.0.0.1", "-p", str(ports[i]), "-mi", "127.0.0.1",
               "-mp", str(free_port(even=True)), "-nostdin", "-timeout", "600s", "-timeout_error"]
        procs.append(subprocess.Popen(cmd, cwd=d / str(i), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                      stdin=subprocess.DEVNULL))
    time.sleep(0.5)
    (d / "list.csv").write_text("id,number,customer_name\n" + "".join(
        f"S{i:04d},09{i // 4:07d}{i % 4},王小明\n" for i in range(n)), encoding="utf-8")
    (d / "c.yaml").write_text("campaign: sipbench\nflow: payment_reminder\ncaller_id: '0227181234'\nlist: list.csv\n"
                              "windows: [{days: [mon, tue, wed, thu, fri, sat, sun], from: '00:00', to: '24:00'}]\n"
                              f"max_attempts: 1\non_voicemail: drop\nring_seconds: 5\n"
                              f"pacing: {{max_in_flight: {a.sip_in_flight}, calls_per_second: 4}}\n", encoding="utf-8")
    campaign = load_campaign(d / "c.yaml")
    srv = SipServerThread(d)
    try:
        calls = CampaignCalls()
        router = Router([SipCampaignDialer(SipDialer(srv.sip), srv.services, calls,
                                           f"sip:{{number}}@127.0.0.1:{p}", ring_seconds=3.0, voicemail=MESSAGE)
                         for p in ports])
        real = RealClock()
        run = CampaignRun(campaign, read_contacts(campaign.list_path), router, real, epoch=time.time())
        t0 = time.perf_counter()
        srv.call(run.run(), 900)
        wall = time.perf_counter() - t0
    finally:
        srv.stop()
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
    right = sum(1 for num, r in router.results if r.outcome == want[kinds[int(num[-1])][0]])
    humans = [r for num, r in router.results if kinds[int(num[-1])][0] == "human"]
    machines = [r for num, r in router.results if kinds[int(num[-1])][0] == "machine"]
    amd_ok = sum("AMD human" in r.detail for r in humans) + sum("AMD machine" in r.detail for r in machines)
    return {"contacts": n, "dials": len(router.results), "wall_seconds": round(wall, 1),
            "dials_per_second": round(len(router.results) / wall, 3), "outcomes_right": right,
            "amd_right": amd_ok, "amd_calls": len(humans) + len(machines), "max_in_flight": a.sip_in_flight}


def main() -> int:
    import tempfile

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--contacts", type=int, default=1000)
    ap.add_argument("--agents", type=int, default=10)
    ap.add_argument("--in-flight", type=int, default=30)
    ap.add_argument("--ceiling", type=float, default=0.03)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--sip-contacts", type=int, default=40)
    ap.add_argument("--sip-in-flight", type=int, default=8)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "campaign.json")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as t:
        out: dict[str, object] = {"machine": platform.machine(), "python": platform.python_version(),
                                  "schedule": schedule_part(a, Path(t))}
        print(json.dumps(out["schedule"], ensure_ascii=False))
        if a.sip_contacts >= 4:
            out["sip"] = sip_part(a, Path(t))
            print(json.dumps(out["sip"], ensure_ascii=False))
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
