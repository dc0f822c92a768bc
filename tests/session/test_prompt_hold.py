"""No dead air while a prompt is synthesized: the hold tone plays until it is
ready; every static prompt can be rendered before the first call."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from ivr.clock import VirtualClock
from ivr.prompts.prewarm import prewarm_flows, static_prompt_texts, warm_texts
from ivr.session.outage import BUSY_TEXT, fallback_text
from tests.session.session_fakes import FakeHandoff, ToneRenderer
from tests.session.test_session import make_session, run_call

ROOT = Path(__file__).resolve().parents[2]


async def test_slow_first_synthesis_plays_hold_tone_not_silence():
    clock = VirtualClock()
    renderer = ToneRenderer()
    ready = asyncio.Event()

    async def slow_offload(fn, *args):
        if getattr(fn, "__name__", "") == "render" and not ready.is_set():
            await clock.sleep(4.0)   # the greeting is not cached: 4 s of synthesis
            ready.set()
        return fn(*args)

    s, rec = make_session(clock, [], hold_open=True, handoff=FakeHandoff(take_after=0), renderer=renderer)
    s.offload = slow_offload
    s.decoder.offload = slow_offload
    await run_call(clock, s)
    first_prompt = s.record.prompts[0]
    assert first_prompt["key"] == "greeting" and first_prompt["started"] >= 4.0
    early = [t for t, _ in rec.frames if t < 4.0]
    assert early and min(early) <= 0.35, "the caller heard nothing while the greeting was synthesized"
    gaps = np.diff(sorted(early))
    assert max(gaps, default=0) <= 0.1   # tone all along, not bursts
    assert max(abs(np.frombuffer(p, np.int16)).max() for t, p in rec.frames if t < 4.0) > 1000


def test_static_prompt_texts_cover_flows_and_outage_prompts():
    texts = static_prompt_texts(ROOT / "flows")
    assert len(texts) > 20 and BUSY_TEXT in texts and fallback_text() in texts
    assert not any("{" in t for t in texts) and len(texts) == len(set(texts))

    class Counting:
        def __init__(self):
            self.seen: list[tuple[str, int]] = []

        def prewarm(self, texts, sample_rates=(8000,)):
            self.seen += [(t, r) for t in texts for r in sample_rates]
            return len(self.seen)

    r = Counting()
    n, made = prewarm_flows(r, ROOT / "flows", (8000,), extra=("請改撥 110",))
    assert n == len(texts) + 1 and made == n and ("請改撥 110", 8000) in r.seen


def test_say_prewarm_a_flows_directory(tmp_path):
    env = {**os.environ, "IVR_TTS_CACHE": str(tmp_path / "tts")}
    cmd = [sys.executable, "-m", "ivr", "say", "--prewarm", str(ROOT / "flows"), "--engine", "espeak"]
    first = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert first.returncode == 0, first.stderr
    n = int(first.stdout.split()[0])
    assert f"{n} texts, {n} synthesized" in first.stdout
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert f"{n} texts, 0 synthesized" in again.stdout


def test_serve_renders_every_static_prompt_before_ready(tmp_path):
    import signal

    env = {**os.environ, "IVR_TTS_CACHE": str(tmp_path / "tts")}
    cmd = [sys.executable, "-m", "ivr", "serve", "--audiosocket", "127.0.0.1:0", "--flows", str(ROOT / "flows"),
           "--engine", "fake", "--tts", "espeak", "--queue", "none", "--records", str(tmp_path / "calls.db"),
           "--bank", str(tmp_path / "bank.db"), "--drain", "0", "--splice-prompts"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=env)
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line.strip())
            if line.strip() == "ready":
                break
        prewarm = next(ln for ln in lines if ln.startswith("prompts:"))
        n = len(warm_texts(ROOT / "flows"))  # static prompts and the templated ones' fixed parts
        assert prewarm.startswith(f"prompts: {n} static, {n} synthesized"), lines
        assert lines.index(prewarm) < lines.index("ready")
        assert len(list((tmp_path / "tts").rglob("*.wav"))) == n
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
