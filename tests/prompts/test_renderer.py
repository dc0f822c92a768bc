import logging

import numpy as np
import pytest

from ivr.frames import Say
from ivr.prompts import PromptError, PromptRenderer, TtsCache, cache_key
from ivr.prompts.kokoro import KokoroTts
from ivr.prompts.wavio import write_wav


def test_cache_hit_is_identical_and_skips_the_engine(counting, tmp_path):
    r = PromptRenderer(tts=counting, cache_dir=tmp_path)
    say = Say("welcome", "zh-TW", "您好，歡迎致電")
    first = r.render(say, 8000)
    assert counting.calls == ["您好，歡迎致電"]
    # a new renderer on the same directory: the disk cache answers
    r2 = PromptRenderer(tts=counting, cache_dir=tmp_path)
    second = r2.render(say, 8000)
    assert counting.calls == ["您好，歡迎致電"]
    assert np.array_equal(first, second) and second.dtype == np.int16
    # another rate or text is another entry
    r2.render(say, 16000)
    r2.render_text("再見", "zh-TW", 8000)
    assert counting.calls == ["您好，歡迎致電", "您好，歡迎致電", "再見"]


def test_cache_hit_does_not_load_the_model(tmp_path):
    """A call whose prompts are cached starts without loading Kokoro."""
    tts = KokoroTts()
    tone = (3000 * np.sin(np.arange(8000) / 8000 * 2 * np.pi * 440)).astype(np.int16)
    TtsCache(tmp_path).put(cache_key("kokoro", f"{tts.voice}|{tts.variant}", "您好", 8000), tone, 8000)
    out = PromptRenderer(tts=tts, cache_dir=tmp_path).render(Say("hi", "zh-TW", "您好"), 8000)
    assert np.array_equal(out, tone)
    assert not tts.loaded
    # another speed sounds different: not the same entry
    assert not PromptRenderer(tts=KokoroTts(speed=1.3), cache_dir=tmp_path).is_cached("您好", 8000)


def test_corrupt_cache_entry_is_resynthesized(counting, tmp_path):
    r = PromptRenderer(tts=counting, cache_dir=tmp_path)
    r.render_text("謝謝", "zh-TW", 8000)
    r.cache.path(r._key("謝謝", 8000)).write_bytes(b"RIFF junk")
    out = r.render_text("謝謝", "zh-TW", 8000)
    assert len(counting.calls) == 2 and out.size > 4000


def test_prewarm_synthesizes_only_what_is_missing(counting, tmp_path):
    r = PromptRenderer(tts=counting, cache_dir=tmp_path)
    assert r.prewarm(["您好", "再見", "您好", ""], sample_rates=(8000,)) == 2
    assert r.prewarm(["您好", "再見"], sample_rates=(8000,)) == 0
    assert r.is_cached("再見", 8000) and not r.is_cached("再見", 16000)
    assert len(counting.calls) == 2


def test_recording_resampled_to_8k(counting, tmp_path):
    rate = 16000
    t = np.arange(rate) / rate  # 1 s of 440 Hz
    write_wav(tmp_path / "welcome.wav", (10000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16), rate)
    r = PromptRenderer(tts=counting, cache_dir=tmp_path / "cache", audio_dir=tmp_path)
    out = r.render(Say("welcome", "nan-TW", "", "welcome.wav"), 8000)
    assert out.dtype == np.int16 and abs(len(out) - 8000) <= 1
    spec = np.abs(np.fft.rfft(out.astype(float)))
    assert abs(np.fft.rfftfreq(len(out), 1 / 8000)[np.argmax(spec)] - 440) < 2
    assert 9000 < np.abs(out).max() <= 10500
    assert counting.calls == []  # a recording never reaches TTS
    frames = r.render_frames(Say("welcome", "nan-TW", "", "welcome.wav"), 8000)
    assert len(frames) == 50 and all(f.samples == 160 for f in frames)


def test_missing_recording_falls_back_to_text(counting, tmp_path, caplog):
    r = PromptRenderer(tts=counting, cache_dir=tmp_path, audio_dir=tmp_path)
    with caplog.at_level(logging.WARNING, logger="ivr"):
        out = r.render(Say("bye", "zh-TW", "再見", "nope.wav"), 8000)
    assert out.size > 0 and counting.calls == ["再見"]
    assert "nope.wav" in caplog.text
    with pytest.raises(PromptError) as e:
        r.render(Say("bye", "zh-TW", "", "nope.wav"), 8000)
    assert "nope.wav" in str(e.value)


def test_taiwanese_text_uses_mandarin_voice_and_warns_once_per_key(counting, tmp_path, caplog):
    r = PromptRenderer(tts=counting, cache_dir=tmp_path)
    with caplog.at_level(logging.WARNING, logger="ivr"):
        r.render(Say("menu", "nan-TW", "請按一"), 8000)
        r.render(Say("menu", "nan-TW", "請按一"), 16000)
        r.render(Say("other", "nan-TW", "請按二"), 8000)
    warnings = [rec.getMessage() for rec in caplog.records if "no Taiwanese voice" in rec.getMessage()]
    assert len(warnings) == 2 and "menu" in warnings[0] and "other" in warnings[1]


def test_amounts_use_clips_for_taiwanese_when_present(counting, tmp_path):
    d = tmp_path / "clips" / "nan-TW" / "num"
    d.mkdir(parents=True)
    for name in [str(i) for i in range(11)] + ["兩", "百", "千", "萬", "元"]:
        write_wav(d / f"{name}.wav", np.full(800, 1000, np.int16), 8000)
    r = PromptRenderer(tts=counting, cache_dir=tmp_path / "cache", clips_dir=tmp_path / "clips")
    out = r.render_amount(1230, "nan-TW", 8000)
    assert len(out) == 7 * 800 + 6 * 480 and counting.calls == []
    r.render_amount(1230, "zh-TW", 8000)
    assert counting.calls == ["一千兩百三十元"]
    r_noclips = PromptRenderer(tts=counting, cache_dir=tmp_path / "cache")
    r_noclips.render_amount(1230, "nan-TW", 8000)
    assert counting.calls[-1] == "一千兩百三十箍"


@pytest.mark.parametrize("say,rate,msg", [
    (Say("k", "en-US", "hi"), 8000, "unknown language"),
    (Say("k", "zh-TW", "hi"), 11025, "unsupported sample rate"),
    (Say("k", "zh-TW", "  "), 8000, "neither audio nor text"),
])
def test_bad_requests(counting, tmp_path, say, rate, msg):
    with pytest.raises(PromptError, match=msg):
        PromptRenderer(tts=counting, cache_dir=tmp_path).render(say, rate)
    assert counting.calls == []


def test_broken_recording_is_a_one_line_error(counting, tmp_path):
    (tmp_path / "bad.wav").write_bytes(b"not a wav at all")
    from ivr.errors import IvrError

    with pytest.raises(IvrError) as e:
        PromptRenderer(tts=counting, cache_dir=tmp_path, audio_dir=tmp_path).render(Say("k", "zh-TW", "", "bad.wav"), 8000)
    assert "bad.wav" in str(e.value) and "\n" not in str(e.value)
