"""`ivr replay --engine`: the timeline with what was said in each turn."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from ivr.audio import dtmf_tones, read_wav, write_wav

ROOT = Path(__file__).resolve().parents[2]


def test_replay_shows_transcript_and_intent_per_turn(whisper_engine, tmp_path):
    speech, rate = read_wav(ROOT / "audio_fixtures" / "audio" / "zh_balance.wav")
    gap = np.zeros(rate // 2, dtype=np.int16)
    call = np.concatenate([dtmf_tones("1", rate), gap, speech, gap])
    wav = tmp_path / "call.wav"
    write_wav(wav, call, rate)
    out = subprocess.run([sys.executable, "-m", "ivr", "replay", str(wav), "--engine", "whisper", "--json"],
                         capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)["events"]
    assert [r["type"] for r in rows] == ["dtmf", "speech"]
    assert rows[0]["digit"] == "1"
    said = rows[1]
    assert "多少錢" in said["text"] and said["intent"] == "check_balance" and 0 < said["confidence"] <= 1


def test_replay_refuses_an_engine_that_cannot_take_free_speech(monkeypatch):
    # pocketsphinx decodes only a step's grammar: on a whole recording it would print blank turns
    import pytest

    import ivr.asr
    from ivr.asr import EngineCapabilities, FakeEngine
    from ivr.cli.replay import transcribe_rows
    from ivr.errors import IvrError

    grammar_only = EngineCapabilities(grammar=True, free_speech=False, streaming=False, languages=("nan-TW",))
    monkeypatch.setattr(ivr.asr, "load_engine", lambda name: FakeEngine(capabilities=grammar_only))
    rows = [{"type": "speech", "start": 0.0, "end": 0.5}]
    with pytest.raises(IvrError, match="hears only a dialog step's expected phrases"):
        transcribe_rows(rows, np.zeros(8000, np.int16), 8000, "sphinx", "nan-TW")
    assert "text" not in rows[0]
