"""The process-wide decode queue (issue 14): a caller whose turn is over is
served before other callers' partials and speculative guesses, first come
first served within a class, and speculation can see the queue is long."""
from __future__ import annotations

import threading
from concurrent.futures import CancelledError

import pytest

from ivr.asr.decode_queue import FINAL, PARTIAL, SPECULATIVE, DecodeQueue


def blocked_queue() -> tuple[DecodeQueue, threading.Event, list[str]]:
    """One worker, held busy until the event is set; ``ran`` is the serving order."""
    q = DecodeQueue(1, "test")
    gate, started = threading.Event(), threading.Event()
    ran: list[str] = []

    def hold() -> None:
        started.set()
        gate.wait(10)

    q.submit(FINAL, hold)
    assert started.wait(10)
    return q, gate, ran


def test_finals_before_partials_before_guesses_and_fifo_within_a_class():
    q, gate, ran = blocked_queue()
    futs = [q.submit(prio, ran.append, name) for prio, name in [
        (SPECULATIVE, "guess-a"), (PARTIAL, "partial-a"), (FINAL, "final-a"), (SPECULATIVE, "guess-b"),
        (FINAL, "final-b"), (PARTIAL, "partial-b")]]
    assert q.waiting(FINAL) == 2 and q.waiting(PARTIAL) == 4 and q.waiting() == 6
    gate.set()
    for f in futs:
        f.result(10)
    assert ran == ["final-a", "final-b", "partial-a", "partial-b", "guess-a", "guess-b"]
    assert q.waiting() == 0
    q.close()


def test_promoted_guess_is_served_as_final_once():
    q, gate, ran = blocked_queue()
    other = q.submit(FINAL, ran.append, "other-final")
    guess = q.submit(SPECULATIVE, ran.append, "guess")
    later = q.submit(PARTIAL, ran.append, "partial")
    q.promote(guess, FINAL)  # the caller's turn ended on this very snapshot
    gate.set()
    for f in (other, guess, later):
        f.result(10)
    assert ran == ["other-final", "guess", "partial"]  # ahead of the partial, behind the earlier final
    q.close()


def test_cancelled_guess_never_runs_and_failures_reach_the_caller():
    q, gate, ran = blocked_queue()
    stale = q.submit(SPECULATIVE, ran.append, "stale")
    stale.cancel()

    def broken() -> None:
        raise ValueError("decoder broke")

    bad = q.submit(FINAL, broken)
    ok = q.submit(FINAL, ran.append, "next")
    gate.set()
    with pytest.raises(ValueError, match="decoder broke"):
        bad.result(10)
    ok.result(10)
    assert ran == ["next"]
    with pytest.raises(CancelledError):
        stale.result(0)
    q.close()
    with pytest.raises(RuntimeError, match="closed"):
        q.submit(FINAL, ran.append, "late")
