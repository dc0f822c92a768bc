"""Progressive mode on the virtual clock: callees who ask for a person wait
for one of the campaign's agents; a call no agent takes within
``abandon_seconds`` is abandoned, and the dialler slows down while the
abandoned rate is over the campaign's ceiling."""
from __future__ import annotations

import asyncio
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from ivr.clock import VirtualClock
from ivr.outbound import CampaignRun, FakeDialer, load_campaign, read_contacts
from ivr.outbound.dialer import DialRequest, DialResult
from ivr.outbound.pacing import AbandonPacer, AgentPool
from ivr.outbound.simulate import drive

MON_0900 = dt.datetime(2026, 12, 7, 9, 0, tzinfo=ZoneInfo("Asia/Taipei")).timestamp()


def campaign_file(tmp_path, contacts: int, progressive: str):
    (tmp_path / "list.csv").write_text("id,number\n" + "".join(
        f"P{i:03d},09110{i:05d}\n" for i in range(contacts)), encoding="utf-8")
    (tmp_path / "c.yaml").write_text(f"""campaign: prog
flow: payment_reminder
caller_id: "0227181234"
list: list.csv
windows: [{{days: [mon, tue, wed, thu, fri], from: "09:00", to: "21:00"}}]
max_attempts: 1
pacing: {{max_in_flight: 8, calls_per_second: 2}}
{progressive}
""", encoding="utf-8")
    c = load_campaign(tmp_path / "c.yaml")
    return c, read_contacts(c.list_path)


def agent_dialer(clock: VirtualClock, pool: AgentPool, within: float) -> FakeDialer:
    """Every callee answers (after 10 s of ringing), listens 20 s, asks for a person, talks 120 s with one."""
    class Dialer(FakeDialer):
        async def dial(self, request: DialRequest) -> DialResult:
            self.placed.append((clock.now(), request))
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            try:
                await clock.sleep(30.0)
                if not await pool.take(within):
                    return DialResult("answered", abandoned=True, detail="no agent")
                await clock.sleep(120.0)
                pool.release(120.0)
                return DialResult("answered", transferred=True)
            finally:
                self.in_flight -= 1
    return Dialer(clock, lambda r: (DialResult("failed"), 0.0))


def run(tmp_path, progressive: str, contacts: int = 60, agents: int = 2):
    campaign, rows = campaign_file(tmp_path, contacts, progressive)
    clock = VirtualClock()
    pool = AgentPool(clock, agents)
    within = campaign.spec.progressive.abandon_seconds if campaign.spec.progressive else 2.0
    dialer = agent_dialer(clock, pool, within)
    r = CampaignRun(campaign, rows, dialer, clock, epoch=MON_0900)
    report = asyncio.run(drive(clock, r.run()))
    return report, r, dialer, clock


def test_pacing_keeps_abandoned_calls_down(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    fast, fast_run, _, _ = run(tmp_path / "a", "")  # not progressive: no ceiling
    paced, paced_run, dialer, _ = run(tmp_path / "b", "progressive: {agents: 2, abandon_seconds: 2, "
                                                      "abandon_ceiling: 0.03}")
    assert fast.totals["reached"] == paced.totals["reached"] == 60
    # dialling 8 at once for 2 agents abandons most callees; the paced run dials about as fast as agents free up
    assert fast.totals["abandoned"] == 54 and fast_run.pacer.lowest == 8
    assert paced.totals["abandoned"] == 6 and paced_run.pacer.lowest == 2  # 10 % over 60 calls, most at the start
    assert dialer.max_in_flight == 8  # it started at the campaign's pace, and slowed down only when it had to


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_agent_pool_hands_a_freed_agent_to_the_caller_waiting():
    clock = VirtualClock()
    pool = AgentPool(clock, 1)

    async def scenario():
        assert await pool.take(2.0)
        waiting = asyncio.ensure_future(pool.take(5.0))
        late = asyncio.ensure_future(pool.take(1.0))
        await settle()
        await clock.advance(1.5)  # the second waiter gives up at 1 s: abandoned
        await settle()
        assert late.done() and late.result() is False and not waiting.done()
        pool.release(10.0)
        await settle()
        assert waiting.done() and waiting.result() is True and pool.free == 0
        pool.release(3.0)
        assert pool.free == 1 and pool.busy_seconds == 13.0

    asyncio.run(scenario())


@pytest.mark.parametrize("events,limits", [
    ([False] * 5, [8, 8, 8, 8, 8]),
    ([True, True, False, False], [7, 6, 6, 6]),     # 1/3 and 1/4 still over 3 %: no speeding up yet
    ([True] + [False] * 40, [7] + [7] * 32 + [8] * 8),  # back under 3 % after 34 answered: one call back at a time
])
def test_pacer_limits(events, limits):
    p = AbandonPacer(8, 0.03)
    got = []
    for e in events:
        p.answered_call(e)
        got.append(p.limit)
    assert got == limits
