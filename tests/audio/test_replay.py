import json
import subprocess
import sys

import numpy as np

from ivr.audio import analyse, dtmf_tones, read_wav, resample, timeline_rows, ulaw_encode, write_wav
from ivr.audio.wav import WAVE_MULAW
from ivr.frames import DtmfDigit, SpeechStarted, SpeechStopped


def call_recording(mandarin_real) -> tuple[np.ndarray, int]:
    """A telephone call: keys 1 and #, a pause, then a real Mandarin utterance."""
    x, r = read_wav(mandarin_real / "fr_BAC009S0764W0121.wav")  # speech 0.50-3.66 in the file
    speech = resample(x, r, 8000)
    keys = dtmf_tones("1#", 8000, level_dbm=-15)
    quiet = np.zeros(4000, np.int16)
    return np.concatenate([quiet, keys, quiet, speech]), 8000


def test_analyse_finds_keys_then_speech(mandarin_real, tmp_path, make_wav):
    x, rate = call_recording(mandarin_real)
    p = make_wav(WAVE_MULAW, 1, rate, 8, ulaw_encode(x))  # as a phone system stores it
    events = analyse(p)
    kinds = [type(e) for e in events]
    assert kinds == [DtmfDigit, DtmfDigit, SpeechStarted, SpeechStopped]
    assert [e.digit for e in events[:2]] == ["1", "#"]
    assert abs(events[0].timestamp - 0.5) < 0.02 and abs(events[1].timestamp - 0.66) < 0.02
    offset = (4000 + 1280 + 4000) / 8000  # where the utterance begins
    assert abs(events[2].timestamp - (offset + 0.50)) <= 0.1
    assert abs(events[3].timestamp - (offset + 3.66)) <= 0.1
    rows = timeline_rows(events)
    assert [r["type"] for r in rows] == ["dtmf", "dtmf", "speech"]


def test_cli_replay_text_and_json(mandarin_real, tmp_path):
    x, rate = call_recording(mandarin_real)
    p = tmp_path / "call.wav"
    write_wav(p, x, rate)
    text = subprocess.run([sys.executable, "-m", "ivr", "replay", str(p)], capture_output=True, text=True,
                          timeout=60)
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert "8000 Hz" in lines[0]
    assert [ln.split()[-2] for ln in lines[1:3]] == ["1", "#"]
    assert "speech" in lines[3]
    js = subprocess.run([sys.executable, "-m", "ivr", "replay", str(p), "--json", "--end-silence", "300"],
                        capture_output=True, text=True, timeout=60)
    assert js.returncode == 0, js.stderr
    doc = json.loads(js.stdout)
    assert doc["sample_rate"] == 8000 and doc["end_silence_ms"] == 300
    speech = [e for e in doc["events"] if e["type"] == "speech"]
    assert [e["digit"] for e in doc["events"] if e["type"] == "dtmf"] == ["1", "#"]
    assert len(speech) >= 1 and all(s["end"] > s["start"] for s in speech)


def test_cli_replay_rejects_tiny_end_silence(tmp_path):
    p = tmp_path / "s.wav"
    write_wav(p, np.zeros(800, np.int16), 8000)
    proc = subprocess.run([sys.executable, "-m", "ivr", "replay", str(p), "--end-silence", "5"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "end-silence" in proc.stderr and "Traceback" not in proc.stderr
