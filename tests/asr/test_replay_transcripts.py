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
