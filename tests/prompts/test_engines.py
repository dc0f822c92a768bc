"""Every TTS engine, for real: non-silent audio of plausible length."""
import numpy as np
import pytest

from ivr.prompts import TtsError, load_tts

TEXT = "您好，歡迎致電，請問需要什麼服務？"  # 16 syllables


def _check_speech(pcm: np.ndarray, rate: int) -> None:
    assert pcm.dtype == np.int16 and pcm.ndim == 1
    seconds = len(pcm) / rate
    # Mandarin TTS runs at 3-7 syllables a second
    assert 16 / 8 < seconds < 16 / 2.5, seconds
    rms = np.sqrt(np.mean(pcm.astype(float) ** 2))
    assert rms > 300, rms
    # speech, not a constant or clipped buzz: energy varies across 50 ms windows
    win = rate // 20
    energy = np.array([np.mean(pcm[i:i + win].astype(float) ** 2) for i in range(0, len(pcm) - win, win)])
    assert energy.max() > 20 * max(energy.min(), 1.0)


def test_espeak(espeak_tts):
    assert espeak_tts.name == "espeak" and espeak_tts.voice == "cmn"
    _check_speech(*espeak_tts.synthesize(TEXT))


def test_espeak_unknown_voice():
    with pytest.raises(TtsError, match="unknown espeak-ng voice"):
        load_tts("espeak", voice="no-such-voice").synthesize("你好")


def test_kokoro(kokoro_tts):
    pcm, rate = kokoro_tts.synthesize(TEXT)
    assert rate == 24000 and kokoro_tts.loaded
    _check_speech(pcm, rate)


def test_kokoro_reads_traditional_and_yao(kokoro_tts):
    # Traditional input is converted for the Simplified G2P: same phonemes, nothing unknown
    assert kokoro_tts.phonemes("歡迎致電，請問需要什麼服務") == kokoro_tts.phonemes("欢迎致电，请问需要什么服务")
    assert "❓" not in kokoro_tts.phonemes("臺灣銀行帳戶餘額")
    # 么 in a phone number is yāo, not the "me" of 什么
    assert kokoro_tts.phonemes("么") == kokoro_tts.phonemes("腰")
    assert kokoro_tts.phonemes("零九么二") == kokoro_tts.phonemes("零九腰二")


def test_pyttsx3():
    pytest.importorskip("pyttsx3", reason="needs PyPI pyttsx3")
    tts = load_tts("pyttsx3")
    try:
        pcm, rate = tts.synthesize(TEXT)
    except TtsError as exc:
        if "cannot start" in str(exc) or "no voice" in str(exc):
            pytest.skip(f"system espeak-ng for pyttsx3 unavailable: {exc}")
        raise
    assert tts.voice == "cmn-latn-pinyin"
    _check_speech(pcm, rate)


def test_empty_text_and_unknown_engine():
    with pytest.raises(TtsError, match="empty text"):
        load_tts("espeak").synthesize("  ")
    with pytest.raises(TtsError, match="unknown TTS engine"):
        load_tts("festival")


def test_espeak_is_initialized_once_per_process(espeak_tts):
    """libespeak-ng is a process global: a second engine (another voice, another
    renderer) shares the one initialized library instead of calling
    espeak_Initialize again (which later crashed espeak_Synth in CI)."""
    from ivr.prompts.espeak import EspeakTts

    other = EspeakTts(voice="cmn-latn-pinyin")
    audio, rate = other.synthesize("你好")
    assert audio.size > 0 and rate == espeak_tts.synthesize("你好")[1]
    assert other._lib is espeak_tts._lib
