"""A prompt in parts (a sentence synthesized at call time, clause by clause):
the first part plays as soon as it is rendered, the next renders while it
plays, and the call record counts the whole prompt. VirtualClock, fakes."""
from __future__ import annotations

import numpy as np

from ivr.clock import VirtualClock
from ivr.frames import Say
from tests.session.session_fakes import RATE, ToneRenderer, silence, to_frames, tone
from tests.session.test_session import make_session, run_call


class PartsRenderer(ToneRenderer):
    """Each prompt in two tone parts of 0.6 s and 0.9 s; notes when each is rendered."""

    def __init__(self, clock) -> None:
        super().__init__()
        self.clock = clock
        self.log: list[tuple[str, float]] = []

    def render_parts(self, say: Say, sample_rate: int):
        self.rendered.append(say)
        for i, secs in enumerate((0.6, 0.9)):
            self.log.append((f"{say.key}:{i}", self.clock.now()))
            yield tone(secs, 440.0 + 100 * i, 3000, sample_rate)


async def test_prompt_plays_its_parts_in_order_and_records_the_whole():
    clock = VirtualClock()
    renderer = PartsRenderer(clock)
    s, rec = make_session(clock, to_frames(silence(12.0)), renderer=renderer, hold_open=False)
    record = await run_call(clock, s, limit=30)
    greeting = next(p for p in record.prompts if p["key"] == "greeting")
    assert greeting["duration"] == 1.5 and greeting["heard"] == 1.5 and not greeting["interrupted"]
    # the second part was rendered before the first had finished playing: no gap between them
    (_, t0), (_, t1) = [e for e in renderer.log if e[0].startswith("greeting")]
    assert t1 - t0 < 0.6
    audio = np.frombuffer(b"".join(p for t, p in rec.frames if t < greeting["started"] + 1.55), dtype="<i2")
    assert audio.size == int(1.5 * RATE)
    frames_t = [t for t, _ in rec.frames[:75]]
    assert np.allclose(np.diff(frames_t), 0.02, atol=1e-6)  # one paced stream across the seam
