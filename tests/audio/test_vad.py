"""Endpointer on the six real Mandarin recordings.

Hand-checked boundaries (seconds). How they were checked: for every file a
SoX spectrogram (``sox f.wav -n spectrogram``, zoomed to 0.5-2 s windows with
extra gain for the quiet ones) was viewed, and the 20 ms speech-band
(250-3800 Hz) energy was printed next to it; a boundary is where harmonics /
formants start or end. Pauses shorter than the end silence used here (500 ms)
stay inside one segment. Notes per file:
- fr_BAC009S0764W0121: read speech, fricative onset 0.50, last syllable fades 3.66.
- wenet_BAC009S0724W0121: onset 0.50; pauses at 1.3-1.5 and 2.15-2.3 (< 500 ms); ends 3.62.
- s3_BAC009S0764W0122: weak voicing from 0.52, ends 3.62.
- fr_IT0011W0001: faint voicing from 0.36 (strong at 0.44), voicing fades 1.50.
- fr_TEST_NET: loud line hum throughout (band floor ~59 dB); speech 0.08-1.56, hum after.
- fr_TEST_MEETING: conversation with a quieter second speaker: 0.16-3.66; gap 3.66-4.20
  (540 ms); 4.20-5.18; silence; 6.30-9.50 (inner gaps 8.0-8.4 and 8.7-8.92 < 500 ms);
  10.10-12.10.
"""
import numpy as np
import pytest

from ivr.audio import Endpointer, VadState, frames, read_wav, resample
from ivr.frames import AudioFrame, SpeechStarted, SpeechStopped

TRUTH = {
    "fr_BAC009S0764W0121": [(0.50, 3.66)],
    "wenet_BAC009S0724W0121": [(0.50, 3.62)],
    "s3_BAC009S0764W0122": [(0.52, 3.62)],
    "fr_IT0011W0001": [(0.36, 1.50)],
    "fr_TEST_NET": [(0.08, 1.56)],
    "fr_TEST_MEETING": [(0.16, 3.66), (4.20, 5.18), (6.30, 9.50), (10.10, 12.10)],
}
TOLERANCE = 0.100


def segments(x: np.ndarray, rate: int, end_silence_ms: int) -> list[tuple[float, float]]:
    ep = Endpointer(rate, end_silence_ms)
    events = []
    last = None
    for f in frames(x, rate):
        events += ep.process(f)
        last = f
    events += ep.finish(last.end)
    starts = [e for e in events if isinstance(e, SpeechStarted)]
    stops = [e for e in events if isinstance(e, SpeechStopped)]
    assert [s.timestamp for s in starts] == [s.start for s in stops]  # paired, in order
    return [(s.start, s.timestamp) for s in stops]


@pytest.mark.parametrize("rate", [16000, 8000])
@pytest.mark.parametrize("name", sorted(TRUTH))
def test_segments_match_hand_checked_boundaries(mandarin_real, name, rate):
    x, r = read_wav(mandarin_real / f"{name}.wav")
    got = segments(resample(x, r, rate), rate, 500)
    want = TRUTH[name]
    assert len(got) == len(want), (got, want)
    for (gs, ge), (ws, we) in zip(got, want, strict=True):
        assert abs(gs - ws) <= TOLERANCE and abs(ge - we) <= TOLERANCE, (got, want)


def test_end_silence_is_per_step(mandarin_real):
    x, r = read_wav(mandarin_real / "fr_TEST_MEETING.wav")
    # the 540 ms and 600 ms pauses end a turn at 500 ms end silence, not at 800 ms
    assert len(segments(x, r, 500)) == 4
    longer = segments(x, r, 800)
    want = [(0.16, 5.18), (6.30, 12.10)]
    assert len(longer) == 2
    for (gs, ge), (ws, we) in zip(longer, want, strict=True):
        assert abs(gs - ws) <= TOLERANCE and abs(ge - we) <= TOLERANCE
    ep = Endpointer(r, 500)
    ep.set_end_silence(800)
    assert ep.end_silence_ms == 800


def synthetic(rate: int) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """A voiced buzz (harmonics of 140 Hz, like a vowel) in faint noise."""
    rng = np.random.default_rng(3)
    x = rng.normal(0, 30, rate * 4)
    t = np.arange(rate) / rate
    buzz = sum(np.sin(2 * np.pi * 140 * k * t) / k for k in range(1, 20)) * 3000
    x[rate // 2: rate // 2 + rate] += buzz
    x[int(rate * 2.5): int(rate * 3.1)] += buzz[: int(rate * 0.6)]
    return np.clip(x, -32768, 32767).astype(np.int16), [(0.5, 1.5), (2.5, 3.1)]


@pytest.mark.parametrize("rate", [8000, 16000])
def test_state_machine_walks_quiet_starting_speaking_stopping(rate):
    x, want = synthetic(rate)
    ep = Endpointer(rate, 300)
    seen = []
    events = []
    for f in frames(x, rate):
        events += ep.process(f)
        if not seen or seen[-1] != ep.state:
            seen.append(ep.state)
    assert seen[:5] == [VadState.QUIET, VadState.STARTING, VadState.SPEAKING, VadState.STOPPING, VadState.QUIET]
    stops = [e for e in events if isinstance(e, SpeechStopped)]
    assert len(stops) == 2
    for s, (ws, we) in zip(stops, want, strict=True):
        assert abs(s.start - ws) <= 0.06 and abs(s.timestamp - we) <= 0.06


def test_any_frame_size_gives_the_same_events():
    rate = 8000
    x, _ = synthetic(rate)
    ep1, ep2 = Endpointer(rate, 300), Endpointer(rate, 300)
    a = [e for f in frames(x, rate) for e in ep1.process(f)]
    b = []
    for i in range(0, len(x), 70):  # 8.75 ms chunks
        b += ep2.process(AudioFrame.from_array(x[i:i + 70], rate, i / rate))
    assert len(a) == 4 and a == b


def test_silence_and_noise_give_no_speech():
    rng = np.random.default_rng(0)
    for x in (np.zeros(16000 * 3, dtype=np.int16), rng.normal(0, 300, 16000 * 3).astype(np.int16)):
        ep = Endpointer(16000)
        assert [e for f in frames(x, 16000) for e in ep.process(f)] == []


def test_rejects_bad_settings():
    with pytest.raises(ValueError):
        Endpointer(11025)
    with pytest.raises(ValueError):
        Endpointer(8000, end_silence_ms=5)
    with pytest.raises(ValueError):
        Endpointer(8000).process(AudioFrame(b"\0" * 640, 16000))


def test_end_turn_early_only_in_a_pause(mandarin_real):
    """An early end of turn (the answer is complete): the endpointer reports how
    long the caller has paused, and calls the turn over on request only inside
    a pause, with the same boundaries the full silence would have given."""
    x, r = read_wav(mandarin_real / "wenet_BAC009S0724W0121.wav")
    x = resample(x, r, 8000)
    ep = Endpointer(8000, 700)
    early: list[SpeechStopped] = []
    longest = 0
    for f in frames(x, 8000):
        ev = ep.process(f)
        assert not any(isinstance(e, SpeechStopped) for e in ev), "the 700 ms silence never came first"
        if ep.state == VadState.SPEAKING:
            assert ep.silence_ms == 0 and ep.end_turn() is None  # never while the caller is voicing
        longest = max(longest, ep.silence_ms)
        if f.end >= 3.62 + 0.3 and not early:
            assert ep.silence_ms >= 240
            stopped = ep.end_turn()
            assert stopped is not None
            early.append(stopped)
            assert ep.state == VadState.QUIET and ep.silence_ms == 0
    assert len(early) == 1
    assert abs(early[0].start - 0.50) <= TOLERANCE and abs(early[0].timestamp - 3.62) <= TOLERANCE
    assert early[0].timestamp == ep.voiced_end
    assert longest >= 240
