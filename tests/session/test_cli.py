"""``ivr run --wav`` and ``ivr demo`` through the real flows, prompts and
audio path (``run`` with the fake engine: keys only; ``demo`` with Whisper)."""
from __future__ import annotations

import io
import wave
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_run_wav_keys_to_agent(tmp_path):
    from argparse import Namespace

    from ivr.audio import dtmf_tones, write_wav
    from ivr.cli.run import run
    from ivr.session import CallRecordStore

    def z(s):
        return np.zeros(int(s * 8000), np.int16)

    wav = tmp_path / "caller.wav"
    # 16 kHz on purpose: the runner resamples to the line rate
    tones = np.concatenate([z(0.5), dtmf_tones("1", 8000), z(1.5), dtmf_tones("9", 8000), z(1.0)])
    write_wav(wav, np.repeat(tones, 2), 16000)
    out = io.StringIO()
    args = Namespace(wav=str(wav), mic=False, flow="main", flows=str(ROOT / "flows"), caller="", language="zh-TW",
                     engine="fake", rate=8000, records=str(tmp_path / "calls.sqlite3"), bank=str(tmp_path / "bank.db"),
                     json=False, out=str(tmp_path / "bot.wav"))
    assert run(args, out) == 0
    text = out.getvalue()
    assert "keys 1  -> language_choice" in text and "keys 9  -> menu_choice" in text
    assert "intent  talk_to_agent" in text and "transfer to T1" in text
    assert "outcome: handed_off" in text
    (record,) = list(CallRecordStore(tmp_path / "calls.sqlite3"))
    assert record.outcome == "handed_off" and record.transport == "wav"
    assert record.prompts[0]["interrupted"] and record.prompts[0]["heard"] == pytest.approx(0.5, abs=0.1)
    with wave.open(str(tmp_path / "bot.wav")) as w:
        assert w.getframerate() == 8000 and w.getnframes() / 8000 == pytest.approx(record.duration, abs=0.3)


@pytest.mark.slow
def test_demo_checks_a_balance(tmp_path):
    from ivr.cli import main

    out_wav = tmp_path / "demo.wav"
    import contextlib

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = main(["demo", "--out", str(out_wav), "--flows", str(ROOT / "flows")])
    text = buf.getvalue()
    if "whisper missing" in text or "whisper " not in text:
        pytest.skip(f"whisper model not installed: {text[:200]}")
    assert rc == 0, text
    assert "action  verify_id_pin ok" in text and "action  get_balance ok" in text
    assert "王小明您好，您的帳戶餘額為五萬兩千三百四十元" in text
    assert "outcome: self_served" in text
    with wave.open(str(out_wav)) as w:
        assert w.getnframes() / w.getframerate() > 30
