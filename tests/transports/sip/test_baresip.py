"""A real softphone, baresip (Debian ``baresip``), dials ``ivr serve --sip``
with a fixture WAV as its microphone and records what it hears (its
``sndfile`` module): the caller's words reach the session as a turn, and the
bot's prompts reach the phone as audio."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from ivr.audio import read_wav, resample, write_wav
from tests.transports.sip.harness import SipServerThread, free_port

pytestmark = [pytest.mark.skipif(shutil.which("baresip") is None, reason="needs baresip (Debian package baresip)"),
              pytest.mark.timeout(90)]
ROOT = Path(__file__).resolve().parents[3]
SPEECH = ROOT / "audio_fixtures" / "audio" / "zh_balance_fast.wav"
MODULES = Path("/usr/lib/baresip/modules")


def baresip_config(tmp: Path, mic: Path) -> Path:
    conf = tmp / "baresip"
    conf.mkdir()
    (conf / "config").write_text("\n".join([
        "poll_method epoll", f"sip_listen 127.0.0.1:{free_port()}", "net_interface 127.0.0.1",
        "audio_player aubridge,nil", f"audio_source aufile,{mic}", "audio_alert aubridge,nil",
        "audio_srate 8000", "audio_channels 1", f"module_path {MODULES}",
        "module g711.so", "module aufile.so", "module aubridge.so", "module sndfile.so",
        "module_app account.so", "module_app menu.so", f"snd_path {tmp}", ""]))
    (conf / "accounts").write_text("<sip:caller@127.0.0.1>;regint=0\n")
    return conf


def test_baresip_call_is_heard_both_ways(tmp_path):
    samples, rate = read_wav(SPEECH)
    samples = resample(samples, rate, 8000) if rate != 8000 else samples
    pad = np.zeros(8000, np.int16)
    mic = tmp_path / "mic.wav"
    write_wav(mic, np.concatenate([pad, samples.astype(np.int16), pad, pad, pad]), 8000)
    srv = SipServerThread(tmp_path)
    try:
        proc = subprocess.run(["baresip", "-f", str(baresip_config(tmp_path, mic)),
                               "-e", f"/dial sip:ivr@127.0.0.1:{srv.port}", "-t", "12"],
                              capture_output=True, text=True, timeout=40, stdin=subprocess.DEVNULL)
        assert srv.wait_idle(), proc.stdout[-2000:]
        (call_id,) = srv.records.call_ids()
        rec = srv.records.get(call_id)
        assert rec.transport == "sip"
        assert rec.turns[0]["text"] == "我要查餘額", proc.stdout[-2000:]   # the phone's microphone was heard
        assert [p["key"] for p in rec.prompts][:2] == ["greeting", "ask_id"]
        heard = sorted(tmp_path.glob("dump-*-dec.wav"))
        assert heard, f"baresip wrote no recording: {proc.stdout[-1500:]}"
        audio, hrate = read_wav(heard[0])
        frames = audio[: len(audio) // (hrate // 50) * (hrate // 50)].reshape(-1, hrate // 50).astype(float)
        loud = (np.sqrt((frames ** 2).mean(axis=1)) > 500).sum() / 50
        assert loud >= 0.8  # the greeting (0.6 s) and the ID prompt (0.4 s) reached the phone
    finally:
        srv.stop()
