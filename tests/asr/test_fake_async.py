"""FakeRecognizer (for other rooms' tests), AsyncRecognizer, and the common
input checks every engine shares."""
from __future__ import annotations

import asyncio
import threading

import pytest

from ivr.asr import AsyncRecognizer, FakeEngine, FakeRecognizer, load_engine
from ivr.asr.base import Recognizer
from ivr.errors import AudioFormatError, IvrError
from ivr.frames import Transcript


def test_fake_follows_its_script_per_turn():
    rec = FakeRecognizer([("我要查餘額", 0.9), ("是", 0.8)])
    rec.set_expected(["是", "不是"], language="zh-TW")
    assert rec.accept(b"\0\0" * 160) is None
    first = rec.finish()
    assert (first.text, first.confidence, first.is_final, first.engine) == ("我要查餘額", 0.9, True, "fake")
    assert rec.finish().text == "是"
    assert rec.finish().text == ""  # script exhausted: silence
    assert rec.expected_log == [(("是", "不是"), "zh-TW")]


def test_fake_engine_through_load_engine_and_partials():
    engine = load_engine("fake", script=[("好", 1.0)], partials=True)
    assert isinstance(engine, FakeEngine)
    rec = engine.recognizer(8000)
    partial = rec.accept(b"\0\0" * 80)
    assert partial is not None and not partial.is_final and partial.text == "好"
    assert rec.finish().is_final


def test_bad_input_is_a_one_line_error():
    rec = FakeRecognizer([])
    with pytest.raises(AudioFormatError, match="odd byte count"):
        rec.accept(b"\0\0\0")
    with pytest.raises(IvrError, match="unsupported sample rate 44100"):
        FakeRecognizer([], sample_rate=44100)
    with pytest.raises(IvrError, match="unknown engine 'kaldi'"):
        load_engine("kaldi")


def test_empty_expected_means_free_speech():
    rec = FakeRecognizer([])
    rec.set_expected(["", "  "])
    assert rec.expected is None


class _SlowRecognizer(Recognizer):
    """Blocks in finish() so we can see whether the event loop stays free."""

    engine_name = "slow"

    def __init__(self) -> None:
        super().__init__(16000)
        self.release = threading.Event()
        self.order: list[str] = []

    def accept(self, pcm: bytes) -> Transcript | None:
        self.order.append(f"a{len(pcm)}")
        return None

    def finish(self) -> Transcript:
        assert self.release.wait(5)
        self.order.append("f")
        return Transcript("ok", True)

    def reset(self) -> None:
        self.order.append("r")


async def test_async_recognizer_keeps_loop_free_and_order():
    slow = _SlowRecognizer()
    rec = AsyncRecognizer(slow)
    for n in (2, 4, 6):
        await rec.accept(b"\0" * n)
    task = asyncio.create_task(rec.finish())
    ticks = 0
    for _ in range(5):  # the loop keeps running while finish() blocks a worker thread
        await asyncio.sleep(0.01)
        ticks += 1
    assert not task.done() and ticks == 5
    slow.release.set()
    assert (await task).text == "ok"
    await rec.reset()
    assert slow.order == ["a2", "a4", "a6", "f", "r"]
    await rec.close()


def test_explicit_model_folder_must_exist(tmp_path):
    with pytest.raises(IvrError, match="does not exist"):
        load_engine("sphinx", tmp_path / "nowhere")


def test_model_for_another_engine_is_refused():
    with pytest.raises(IvrError, match="is for engine whisper, not vosk"):
        load_engine("vosk", model="whisper-base")
