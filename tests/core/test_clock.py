import asyncio

from ivr.clock import RealClock, VirtualClock


async def test_virtual_clock_wakes_sleepers_in_deadline_order():
    clock = VirtualClock()
    woke: list[tuple[str, float]] = []

    async def sleeper(name: str, d: float) -> None:
        await clock.sleep(d)
        woke.append((name, clock.now()))

    tasks = [asyncio.create_task(sleeper(n, d)) for n, d in [("c", 3.0), ("a", 1.0), ("b", 2.0)]]
    await asyncio.sleep(0)
    await clock.advance(1.5)
    assert woke == [("a", 1.0)]
    assert clock.now() == 1.5
    await clock.advance(10)
    assert woke == [("a", 1.0), ("b", 2.0), ("c", 3.0)]
    await asyncio.gather(*tasks)


async def test_virtual_clock_chained_timers_fire_at_exact_times():
    clock = VirtualClock()
    ticks: list[float] = []

    async def ticker() -> None:
        for _ in range(5):
            await clock.sleep(0.02)
            ticks.append(round(clock.now(), 6))

    t = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    await clock.run_until_idle()
    await t
    assert ticks == [0.02, 0.04, 0.06, 0.08, 0.1]


async def test_run_until_idle_is_faster_than_real_time():
    clock = VirtualClock()
    real = RealClock()
    done = asyncio.Event()

    async def long_call() -> None:
        await clock.sleep(600)  # a ten-minute call
        done.set()

    task = asyncio.create_task(long_call())
    await asyncio.sleep(0)
    await clock.run_until_idle()
    assert done.is_set() and task.done() and clock.now() == 600
    assert real.now() < 1.0


async def test_cancelled_sleeper_does_not_block_idle():
    clock = VirtualClock()
    t = asyncio.create_task(clock.sleep(5))
    await asyncio.sleep(0)
    t.cancel()
    await asyncio.sleep(0)
    assert clock.next_deadline() is None
