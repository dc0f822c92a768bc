"""Whisper engine on real Mandarin recordings."""
from __future__ import annotations

import numpy as np

from ivr.asr import char_errors, to_simplified
from ivr.asr.text import to_traditional

from .helpers import feed, read_pcm


def _refs(mandarin_real):
    rows = [ln.split("\t") for ln in (mandarin_real / "transcripts.tsv").read_text(encoding="utf-8").splitlines() if ln]
    return dict(rows)


def test_real_mandarin_cer_under_bound(whisper_engine, mandarin_real):
    refs = _refs(mandarin_real)
    # the short read-speech clips; the 12 s meeting clip is scored in bench/asr.py
    files = [f for f in refs if "MEETING" not in f]
    errs = total = 0
    rec = whisper_engine.recognizer(16000)
    for f in files:
        x, rate = read_pcm(mandarin_real / f)
        assert rate == 16000
        feed(rec, x, rate)
        t = rec.finish()
        assert t.is_final and t.engine == "whisper" and t.decode_seconds > 0
        # Traditional output: converting to Traditional again changes nothing
        assert t.text == to_traditional(t.text)
        assert t.text != to_simplified(t.text) or not any("\u4e00" <= c <= "\u9fff" for c in t.text)
        e, n = char_errors(refs[f], t.text)
        errs, total = errs + e, total + n
    assert total > 40
    assert errs / total <= 0.20, f"CER {errs}/{total}"


def test_8k_input_is_resampled(whisper_engine, mandarin_real):
    from ivr.asr.resampling import resample

    x, rate = read_pcm(mandarin_real / "s3_BAC009S0764W0122.wav")
    rec = whisper_engine.recognizer(8000)
    feed(rec, resample(x, rate, 8000), 8000)
    t = rec.finish()
    e, n = char_errors("一二线城市虽然也处于调整中", t.text)
    assert e / n <= 0.3, t.text


def test_silence_gives_empty_final_and_next_turn_is_clean(whisper_engine, mandarin_real):
    rec = whisper_engine.recognizer(16000)
    feed(rec, np.zeros(16000, dtype=np.int16), 16000)
    t = rec.finish()
    assert t.text == "" and t.confidence == 0.0
    x, rate = read_pcm(mandarin_real / "fr_IT0011W0001.wav")
    feed(rec, x, rate)
    assert char_errors("换一首歌", rec.finish().text)[0] <= 1


def test_speculative_decode_matches_plain(whisper_engine, mandarin_real):
    x, rate = read_pcm(mandarin_real / "wenet_BAC009S0724W0121.wav")
    pad = np.zeros(rate * 7 // 10, dtype=np.int16)  # the endpointer's trailing silence
    audio = np.concatenate([x, pad])
    plain = whisper_engine.recognizer(rate)
    feed(plain, audio, rate)
    spec = whisper_engine.recognizer(rate, speculative=True)
    feed(spec, audio, rate)
    assert spec._spec is not None, "no background decode was started during the trailing pause"
    a, b = plain.finish(), spec.finish()
    assert a.text == b.text
    assert spec.speculative_hits == 1  # the final came from the background decode
    spec.close()


def test_partial_in_a_pause_is_reused_by_finish(whisper_engine, mandarin_real):
    """The session asks for a partial early in the caller's pause (to end a
    complete turn early); the final right after must not decode again."""
    x, rate = read_pcm(mandarin_real / "wenet_BAC009S0724W0121.wav")
    spec = whisper_engine.recognizer(rate, speculative=True)
    assert spec.partial() is None  # nothing heard yet
    feed(spec, np.concatenate([x, np.zeros(rate * 15 // 100, dtype=np.int16)]), rate)
    heard = spec.partial()
    assert heard is not None and not heard.is_final and heard.text
    decoding = spec._spec
    feed(spec, np.zeros(rate // 10, dtype=np.int16), rate)  # more of the pause, no voice
    final = spec.finish()
    assert final.text == heard.text and spec.speculative_hits == 1
    assert decoding is not None and decoding[1].done()
    spec.close()


def test_speculation_backs_off_while_callers_wait(whisper_engine, mandarin_real):
    """Callers waiting on decodes (the queue as long as the workers): no new
    background guess is queued in a pause; the final still decodes."""
    import threading

    from ivr.asr.decode_queue import FINAL

    x, rate = read_pcm(mandarin_real / "fr_IT0011W0001.wav")
    gate = threading.Event()
    q = whisper_engine.decodes
    busy = [q.submit(FINAL, gate.wait, 30) for _ in range(whisper_engine.workers * 2)]
    try:
        spec = whisper_engine.recognizer(rate, speculative=True)
        feed(spec, np.concatenate([x, np.zeros(rate * 7 // 10, dtype=np.int16)]), rate)
        assert spec._spec is None, "a guess was queued behind waiting callers"
    finally:
        gate.set()
    for f in busy:
        f.result(30)
    assert char_errors("换一首歌", spec.finish().text)[0] <= 1 and spec.speculative_hits == 0
    spec.close()


def test_expected_phrases_steer_the_decode(whisper_engine, mandarin_real):
    x, rate = read_pcm(mandarin_real / "wenet_BAC009S0724W0121.wav")
    ref = "广州市房地产中介协会分析"
    rec = whisper_engine.recognizer(rate)
    feed(rec, x, rate)
    free = char_errors(ref, rec.finish().text)[0]
    rec.set_expected(["廣州市房地產中介協會分析", "我要查餘額", "轉接專人"])
    feed(rec, x, rate)
    hinted = char_errors(ref, rec.finish().text)[0]
    assert hinted <= free and hinted <= 1, (free, hinted)
