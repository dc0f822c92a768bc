import asyncio

import numpy as np
import pytest

from ivr.audio import Framer, MemorySink, MemorySource, WavSink, WavSource, frames, read_wav, write_wav
from ivr.clock import VirtualClock
from ivr.frames import AudioFrame


def ramp(n: int) -> np.ndarray:
    return (np.arange(n) % 2000 - 1000).astype(np.int16)


def test_frames_are_20ms_and_the_last_is_padded():
    x = ramp(8000 + 50)
    fs = list(frames(x, 8000))
    assert len(fs) == 51 and all(f.samples == 160 for f in fs)
    assert fs[-1].timestamp == pytest.approx(1.0)
    assert np.array_equal(np.concatenate([f.array() for f in fs])[:len(x)], x)
    assert not fs[-1].array()[50:].any()


def test_framer_handles_arbitrary_and_odd_byte_chunks():
    x = ramp(16000)
    data = x.tobytes()
    framer = Framer(16000)
    out = []
    i = 0
    for n in [1, 2, 3, 639, 640, 641, 5, 1001] * 20:
        out += framer.push(data[i:i + n])
        i += n
    out += framer.push(data[i:])
    out += framer.flush()
    assert all(len(f.pcm) == 640 for f in out)
    assert [f.timestamp for f in out] == pytest.approx([k * 0.02 for k in range(len(out))])
    assert np.concatenate([f.array() for f in out]).tobytes()[:len(data)] == data


async def test_memory_source_unpaced_is_immediate():
    x = ramp(8000)
    got = [f async for f in MemorySource(x, 8000)]
    assert len(got) == 50 and got[0].timestamp == 0.0


async def test_wav_source_paced_on_the_clock(tmp_path):
    p = tmp_path / "a.wav"
    write_wav(p, ramp(16000), 16000)
    clock = VirtualClock(start=10.0)
    src = WavSource(p, 8000, clock=clock)
    seen = []

    async def consume():
        async for f in src:
            seen.append((clock.now(), f.timestamp, f.sample_rate, f.samples))

    task = asyncio.create_task(consume())
    await clock.run_until_idle()
    await task
    assert len(seen) == 50
    for i, (now, ts, rate, n) in enumerate(seen):
        assert rate == 8000 and n == 160
        assert ts == pytest.approx(10.0 + i * 0.02)
        assert now == pytest.approx(ts + 0.02)  # delivered when its last sample "arrived"


async def test_wav_source_converts_44k1_stereo_file(tmp_path, make_wav):
    from ivr.audio.wav import WAVE_PCM
    t = np.arange(44100) / 44100
    mono = (8000 * np.sin(2 * np.pi * 1000 * t)).astype(np.int16)
    p = make_wav(WAVE_PCM, 2, 44100, 16, np.repeat(mono, 2).astype("<i2").tobytes())
    got = [f async for f in WavSource(p, 16000)]
    y = np.concatenate([f.array() for f in got])
    assert len(got) == 50 and got[0].sample_rate == 16000
    rms = np.sqrt(np.mean(y[1000:15000].astype(float) ** 2))
    assert rms == pytest.approx(8000 / np.sqrt(2), rel=0.06)


async def play(sink, x, rate):
    for f in frames(x, rate):
        await sink.write(f)


async def test_sink_paces_and_counts_played_time():
    clock = VirtualClock()
    sink = MemorySink(8000, clock)
    x = ramp(8000)  # one second
    task = asyncio.create_task(play(sink, x, 8000))
    await asyncio.sleep(0)  # the writer starts at t=0
    await clock.advance(0.5)
    assert sink.played_seconds == pytest.approx(0.5, abs=0.001)
    assert 0 < sink.queued_seconds <= sink.lookahead + 0.02  # writer is held back like a sound card
    await clock.run_until_idle()
    await task
    flush = asyncio.create_task(sink.flush())
    await clock.run_until_idle()
    await flush
    assert sink.played_seconds == pytest.approx(1.0)
    assert np.array_equal(sink.samples(), x)


async def test_clear_drops_unplayed_audio_for_barge_in():
    clock = VirtualClock()
    sink = MemorySink(8000, clock, lookahead=10.0)  # the whole prompt is queued at once
    await play(sink, ramp(16000), 8000)  # two seconds
    await clock.advance(0.7)
    dropped = sink.clear()
    assert dropped == pytest.approx(1.3, abs=0.001)
    await clock.advance(1.0)
    assert sink.played_seconds == pytest.approx(0.7, abs=0.001)
    assert len(sink.samples()) == 5600  # only what the caller heard
    # the next prompt starts when written, not where the old one would have ended
    await play(sink, ramp(800), 8000)
    await clock.advance(0.1)
    assert sink.played_seconds == pytest.approx(0.8, abs=0.001)


async def test_wav_sink_records_what_was_heard(tmp_path):
    clock = VirtualClock()
    p = tmp_path / "out.wav"
    sink = WavSink(p, 8000, clock, lookahead=10.0)
    x = ramp(8000)
    await play(sink, x, 8000)
    await clock.advance(0.25)
    sink.clear()
    await play(sink, x[:800], 8000)
    f = asyncio.create_task(sink.flush())
    await clock.run_until_idle()
    await f
    await sink.aclose()
    got, rate = read_wav(p)
    assert rate == 8000
    assert np.array_equal(got, np.concatenate([x[:2000], x[:800]]))


async def test_sink_rejects_wrong_rate():
    sink = MemorySink(8000, VirtualClock())
    with pytest.raises(ValueError):
        await sink.write(AudioFrame(b"\0" * 640, 16000))
