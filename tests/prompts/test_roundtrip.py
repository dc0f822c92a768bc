"""Round trip: prompts synthesized by the default engine, recognised back by
the Whisper ASR engine (ivr.asr), scored by CER.

Measured here (bench/tts.py, kokoro/jm_kumo + whisper-base): CER 0.0-0.15 on
these prompts; the bound leaves margin for engine updates, not for a broken
voice (espeak scores 0.6-0.8, silence or noise 1.0)."""
import pytest

from ivr.asr.scoring import cer
from ivr.frames import Say
from ivr.prompts import DEFAULT_TTS, PromptRenderer, load_tts, verbalize_amount_zh

CER_BOUND = 0.35

PROMPTS = [
    "您好，歡迎致電，請問需要什麼服務？",
    verbalize_amount_zh(1230),  # 一千兩百三十元
]


@pytest.fixture(scope="module")
def renderer(tmp_path_factory, kokoro_tts):
    tts = kokoro_tts if DEFAULT_TTS == "kokoro" else load_tts(DEFAULT_TTS)
    return PromptRenderer(tts=tts, cache_dir=tmp_path_factory.mktemp("tts-cache"))


def _hear(engine, pcm, rate) -> str:
    rec = engine.recognizer(rate)
    rec.set_expected(None, "zh-TW")
    rec.accept(pcm.tobytes())
    return rec.finish().text


@pytest.mark.parametrize("rate", [16000, 8000])
@pytest.mark.parametrize("text", PROMPTS)
def test_default_voice_is_understood(renderer, whisper_engine, text, rate):
    pcm = renderer.render(Say("t", "zh-TW", text), rate)
    heard = _hear(whisper_engine, pcm, rate)
    score = cer(text, heard)
    print(f"{rate} Hz: {text} -> {heard} (CER {score:.2f})")
    assert score < CER_BOUND, f"{text!r} heard as {heard!r}"
