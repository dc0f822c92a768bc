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


def test_user_input_alternatives_are_validated():
    from ivr.frames import MAX_ALTERNATIVES, UserInput

    ui = UserInput(text="一二三", alternatives=("一二三四", "一二八四"))
    assert ui.alternatives == ("一二三四", "一二八四") and UserInput(dtmf="1").alternatives == ()
    with pytest.raises(ValueError, match="tuple of non-empty"):
        UserInput(text="一二三", alternatives=["一二三四"])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="tuple of non-empty"):
        UserInput(text="一二三", alternatives=("一二三四", " "))
    with pytest.raises(ValueError, match="tuple of non-empty"):
        UserInput(text="一二三", alternatives=(1234,))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="without a transcript"):
        UserInput(text="", dtmf="12", alternatives=("一二三四",))
    with pytest.raises(ValueError, match="at most"):
        UserInput(text="一", alternatives=tuple(str(i) for i in range(MAX_ALTERNATIVES + 1)))
