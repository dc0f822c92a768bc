"""Whisper's n-best at a number step (issue 11): one beam search gives the best
transcript and the next-best ones, cleaned as the best one is, as the turn's
alternatives; a step that asks for one transcript decodes as before."""
from __future__ import annotations

from ivr.asr.whisper import BASE_PROMPT
from ivr.asr.whisper_nbest import next_best
from ivr.frames import Alternative

from .helpers import read_pcm

DIGITS = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"]


def test_next_best_ranks_cleans_and_drops_repeats():
    hyps = [("五六七", -0.9), ("一二三四", -0.3), ("", -0.5), ("一二三", -0.4), ("一二三四", -0.6), ("九", 0.2)]
    alts = next_best(hyps, "一二三", lambda raw: raw.strip())
    assert [a.text for a in alts] == ["九", "一二三四", "五六七"]
    assert all(isinstance(a, Alternative) for a in alts) and alts[0].score == 0.0  # a score is a log-probability


def _scripted(monkeypatch, engine, answers):
    """Replace the beam search (not the encoder) with scripted n-best lists; record prompts and counts."""
    calls: list[tuple[str, int]] = []

    def hypotheses(encoded, n, prompt, count=1, suppress=()):
        calls.append((prompt, count))
        return answers[min(len(calls), len(answers)) - 1][:count], 0.01

    monkeypatch.setattr(engine, "_hypotheses", hypotheses)
    return calls


def test_loops_and_repeats_are_not_alternatives(whisper_engine, mandarin_real, monkeypatch):
    audio, _ = read_pcm(mandarin_real / "wenet_BAC009S0724W0121.wav")  # 4.3 s
    calls = _scripted(monkeypatch, whisper_engine, [[("二八七", -0.2), ("二八七六", -0.3), ("二八七", -0.35),
                                                   ("行。行。行。行。行。行。行。行。", -0.4), ("二八七九", -0.5)]])
    result = whisper_engine.recognize(audio, DIGITS, hypotheses=5)
    assert result.text == "二八七"
    assert [a.text for a in result.alternatives] == ["二八七六", "二八七九"]
    assert calls == [(BASE_PROMPT + "、".join(DIGITS) + "。", 5)]


def test_a_looping_best_is_decoded_again_without_hints(whisper_engine, mandarin_real, monkeypatch):
    audio, _ = read_pcm(mandarin_real / "wenet_BAC009S0724W0121.wav")
    loop = "二、八、七、八、七、八、七、八、七、八、七、八、七、八、七、八、七、八、七、八、七、八、七、八"
    calls = _scripted(monkeypatch, whisper_engine, [[(loop, -0.2), ("二八七六", -0.3)],
                                                   [("二八七六", -0.2), ("二八七九", -0.4)]])
    result = whisper_engine.recognize(audio, DIGITS, hypotheses=4)
    assert result.text == "二八七六" and [a.text for a in result.alternatives] == ["二八七九"]
    assert [c[1] for c in calls] == [4, 4] and calls[1][0] == BASE_PROMPT


def test_real_beam_gives_ranked_distinct_alternatives(whisper_engine, mandarin_real):
    audio, _ = read_pcm(mandarin_real / "wenet_BAC009S0724W0121.wav")
    one = whisper_engine.recognize(audio, None)
    assert one.text and one.alternatives == ()  # one transcript asked: none offered
    many = whisper_engine.recognize(audio, None, hypotheses=5)
    assert many.text and 1 <= len(many.alternatives) <= 4
    texts = [a.text for a in many.alternatives]
    assert many.text not in texts and len(set(texts)) == len(texts)
    assert all(a.score >= b.score for a, b in zip(many.alternatives, many.alternatives[1:], strict=False))


def test_the_recognizer_asks_for_what_the_step_wants(whisper_engine, mandarin_real):
    audio, _ = read_pcm(mandarin_real / "wenet_BAC009S0724W0121.wav")
    rec = whisper_engine.recognizer(speculative=False)
    assert rec.hypotheses == 1
    rec.accept(audio.tobytes())
    assert rec.finish().alternatives == ()
    rec.hypotheses = 5  # the session sets this at a number step (ivr.session.decoding.hypotheses_for)
    rec.accept(audio.tobytes())
    assert rec.finish().alternatives
