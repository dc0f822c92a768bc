"""Replay gives the same verdicts on every run: computation takes no call time,
Whisper is pinned to one instruction set, and an xfail is strict unless its
scenario says its outcome is not deterministic."""
from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import Future
from pathlib import Path

import pytest

from ivr.clock import VirtualClock
from ivr.qa import RunOptions, load_scenarios, run_scenarios
from ivr.qa.runner import TrackingExecutor, _cancel_leftovers, _drive

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"


def test_computation_takes_no_call_time() -> None:
    """A slow decode must not move the virtual clock: before, the clock
    advanced by the wall time of work in flight, so a busy machine let the
    caller's next turn start earlier and changed verdicts."""
    async def main() -> float:
        clock = VirtualClock()
        executor = TrackingExecutor(2)
        loop = asyncio.get_running_loop()

        async def call() -> float:
            await loop.run_in_executor(executor, time.sleep, 0.2)  # a 'decode'
            return clock.now()

        task = asyncio.ensure_future(call())
        await _drive(clock, task, executor)
        executor.shutdown()
        return task.result()

    assert asyncio.run(main()) == 0.0


def test_work_counts_down_after_its_result_reached_the_loop() -> None:
    """The executor's count-down must reach the loop after the result does:
    otherwise the driver can see no work and nothing runnable, and move call
    time before the result wakes its waiter (turn latencies then differed by
    0.1-1 s between runs of the same fixture)."""
    async def main() -> list[bool]:
        executor = TrackingExecutor(1)
        loop = asyncio.get_running_loop()
        seen: list[bool] = []
        awaited: list[asyncio.Future[None]] = []
        count_down = executor._count_down

        def checked() -> None:
            seen.append(awaited[0].done())  # the waiter's future already holds the result
            count_down()

        executor._count_down = checked  # type: ignore[method-assign]
        for _ in range(20):
            awaited[:] = [loop.run_in_executor(executor, time.sleep, 0.001)]
            await awaited[0]
            for _ in range(5000):  # the count-down follows the result (the worker thread sends it next)
                if not executor.inflight:
                    break
                await asyncio.sleep(0.001)
            assert executor.inflight == 0
        executor.shutdown()
        return seen

    seen = asyncio.run(main())
    assert len(seen) == 20 and all(seen)


def test_held_work_stops_call_time() -> None:
    """A decode in the recognizer's own queue (not the loop's executor) is held
    on the clock: call time stands still until it is done, even with a caller
    sending audio every 20 ms meanwhile."""
    async def main() -> tuple[float, int]:
        clock = VirtualClock()
        executor = TrackingExecutor(1)
        ticks = 0

        async def line() -> None:
            nonlocal ticks
            while True:
                await clock.sleep(0.02)
                ticks += 1

        async def call() -> float:
            await clock.sleep(0.1)
            done: Future[str] = Future()
            threading.Timer(0.3, done.set_result, ("ok",)).start()  # a decode off the loop
            later = asyncio.wrap_future(done)
            clock.hold(later)
            t0 = clock.now()
            await later
            return clock.now() - t0

        feeder = asyncio.ensure_future(line())
        task = asyncio.ensure_future(call())
        await _drive(clock, task, executor)
        feeder.cancel()
        executor.shutdown()
        return task.result(), ticks

    waited, ticks = asyncio.run(main())
    assert waited == 0.0
    assert ticks == 5  # 0.1 s of audio before the decode, none while it ran


def test_tasks_left_behind_are_cancelled_before_the_loop_closes() -> None:
    """A replay that ends with the caller on hold leaves the hold task waiting:
    it is cancelled and awaited, not destroyed pending when the loop closes."""
    loop = asyncio.new_event_loop()
    try:
        left = loop.create_task(asyncio.sleep(3600))
        loop.run_until_complete(asyncio.sleep(0))
        _cancel_leftovers(loop)
        assert left.cancelled()
        assert not [t for t in asyncio.all_tasks(loop) if not t.done()]
    finally:
        loop.close()


def _scenario(tmp_path: Path, name: str, key: str, extra: str) -> Path:
    text = (DATA / "mini.yaml").read_text(encoding="utf-8").replace('dtmf: "1"', f'dtmf: "{key}"')
    path = tmp_path / f"{name}.yaml"
    path.write_text(text.replace("name: mini_dtmf_balance", f"name: {name}") + extra, encoding="utf-8")
    return path


def test_xfail_strict_and_not(tmp_path: Path) -> None:
    passing_strict = _scenario(tmp_path, "p_strict", "1", "xfail: a bug that was fixed\n")
    passing_loose = _scenario(tmp_path, "p_loose", "1", "xfail: depends on the weather\nxfail_strict: false\n")
    failing = _scenario(tmp_path, "f", "2", "xfail: key 2 is not balance\n")
    summary = run_scenarios([passing_strict, passing_loose, failing], RunOptions(flows_dir=DATA / "flows"))
    by = {r.scenario.name: r for r in summary.results}
    assert by["p_strict"].status == "failed"
    assert any("but passed: remove the xfail" in f for f in by["p_strict"].failures)
    assert by["p_loose"].status == "passed" and "did not fail this time" in by["p_loose"].message
    assert by["f"].status == "skipped" and by["f"].message.startswith("known failure (key 2 is not balance)")


@pytest.mark.slow
def test_voice_fixtures_replay_identically() -> None:
    """The Whisper fixtures twice, each run with its own engines: every
    transcript, intent, turn latency and verdict the same (keyed one-time codes are random
    per run, so keys are not compared)."""
    scenarios = [s for s in load_scenarios([ROOT / "audio_fixtures"])
                 if s.language == "zh-TW" and "voice" in s.tags]
    assert len(scenarios) >= 8

    def run() -> list[tuple]:
        summary = run_scenarios(scenarios, RunOptions())
        return [(r.scenario.name, r.status,
                 tuple((t.transcript, t.intent, t.no_input, t.latency_ms) for t in r.turns))
                for r in summary.results]

    first, second = run(), run()
    assert [x for x in first if x[1] == "error"] == []
    assert first == second


def test_ivr_test_twice_compares_the_two_replays(tmp_path: Path) -> None:
    """`ivr test --twice`: a QA team checks that its own recordings replay the same."""
    import subprocess
    import sys

    path = _scenario(tmp_path, "twice", "1", "")
    done = subprocess.run([sys.executable, "-m", "ivr", "test", str(path), "--flows", str(DATA / "flows"), "--twice"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "replayed twice: the same transcripts, intents, latencies and verdicts in all 1 scenarios" in done.stdout


def test_replay_differences_names_the_scenario_turn_and_what_changed(tmp_path: Path) -> None:
    from dataclasses import replace

    from ivr.qa import RunSummary, replay_differences

    path = _scenario(tmp_path, "diff", "1", "")
    first = run_scenarios([path], RunOptions(flows_dir=DATA / "flows"))
    second = run_scenarios([path], RunOptions(flows_dir=DATA / "flows"))
    assert replay_differences(first, second) == []
    r = second.results[0]
    slower = replace(r, turns=[replace(r.turns[0], latency_ms=(r.turns[0].latency_ms or 0) + 100)])
    lines = replay_differences(first, RunSummary([slower]))
    assert len(lines) == 1 and lines[0].startswith("diff turn 1 (line ") and "latency_ms" in lines[0]
    card = replace(r, turns=[replace(r.turns[0], transcript="我的卡號 4111111111111111")])
    lines = replay_differences(first, RunSummary([card]))
    assert "4111111111111111" not in lines[0] and "transcript" in lines[0]  # personal numbers redacted
    failed = replace(r, status="failed")
    assert replay_differences(first, RunSummary([failed])) == ["diff: passed/self_served/- then failed/self_served/-"]
    assert replay_differences(first, RunSummary([])) == ["diff: not replayed the second time"]
