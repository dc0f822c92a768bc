import dataclasses

import numpy as np
import pytest

from ivr.frames import AudioFrame, DtmfDigit, Say, SpeechStopped


def test_audio_frame_round_trips_numpy_and_reports_duration():
    x = (np.sin(np.arange(160) / 5) * 8000).astype(np.int16)
    f = AudioFrame.from_array(x, 8000, timestamp=1.0)
    assert f.samples == 160 and f.duration == pytest.approx(0.02) and f.end == pytest.approx(1.02)
    assert np.array_equal(f.array(), x)


def test_frames_are_frozen_and_validated():
    f = AudioFrame(b"\0\0" * 10, 16000)
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.sample_rate = 8000  # type: ignore[misc]
    with pytest.raises(ValueError):
        AudioFrame(b"\0", 8000)
    with pytest.raises(ValueError):
        DtmfDigit("x", 0.0)
    assert SpeechStopped(2.5, 1.0).duration == 1.5
    assert Say("welcome", "zh-TW", text="您好").interruptible
