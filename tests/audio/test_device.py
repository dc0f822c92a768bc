"""Microphone and speaker through real PortAudio/ALSA, headless.

Each test writes its own ALSA config (a temporary HOME with .asoundrc) that
defines a ``type file`` PCM: capture reads a raw fixture file, playback writes
a raw file. The capture runs in a subprocess so the config is read fresh."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

SKIP_CODE = 3


def alsa_home(tmp_path: Path, infile: Path, outfile: Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
    (home / ".asoundrc").write_text(textwrap.dedent(f"""\
        pcm.ivrfixture {{
            type file
            slave.pcm "null"
            file "{outfile}"
            infile "{infile}"
            format "raw"
            hint {{ show on description "ivr test fixture" }}
        }}
        """))
    env = dict(os.environ, HOME=str(home))
    env.pop("ALSA_CONFIG_PATH", None)
    return env


def run_script(script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    if proc.returncode == SKIP_CODE:
        pytest.skip(f"PortAudio cannot open the ALSA file device: {proc.stdout.strip()}")
    assert proc.returncode == 0, proc.stderr
    return proc


PRELUDE = f"""
import asyncio, sys
try:
    import sounddevice as sd
    names = [d["name"] for d in sd.query_devices()]
except Exception as e:
    print(f"sounddevice/PortAudio unavailable: {{e}}"); sys.exit({SKIP_CODE})
if not any(n.startswith("ivrfixture") for n in names):
    print(f"device not listed by PortAudio: {{names}}"); sys.exit({SKIP_CODE})
"""


def test_mic_source_is_bit_exact_through_alsa_file_device(tmp_path):
    rng = np.random.default_rng(11)
    fixture = rng.integers(-32768, 32767, 16000).astype("<i2")  # 1 s at 16 kHz, every bit matters
    infile = tmp_path / "in.raw"
    fixture.tofile(infile)
    captured = tmp_path / "captured.raw"
    env = alsa_home(tmp_path, infile, tmp_path / "play.raw")
    proc = run_script(PRELUDE + f"""
from ivr.audio import MicSource
async def main():
    frames = []
    async for f in MicSource(16000, device="ivrfixture", max_seconds=0.8):
        frames.append(f)
    open({str(captured)!r}, "wb").write(b"".join(f.pcm for f in frames))
    print(len(frames), frames[0].samples, frames[1].timestamp)
asyncio.run(main())
""", env)
    n, samples, t1 = proc.stdout.split()
    assert (int(n), int(samples), float(t1)) == (40, 320, 0.02)
    got = np.fromfile(captured, "<i2")
    assert np.array_equal(got, fixture[:len(got)]) and len(got) == 12800


def test_mic_source_unknown_device_is_a_one_line_error(tmp_path):
    env = alsa_home(tmp_path, tmp_path / "none.raw", tmp_path / "play.raw")
    proc = run_script(PRELUDE + """
from ivr.audio import MicSource
from ivr.errors import AudioFormatError
async def main():
    try:
        async for f in MicSource(16000, device="no-such-device", max_seconds=0.1):
            pass
    except AudioFormatError as e:
        print(e)
asyncio.run(main())
""", env)
    assert "mic no-such-device: cannot open input device" in proc.stdout


def test_speaker_sink_plays_every_sample_in_order(tmp_path):
    out = tmp_path / "play.raw"
    env = alsa_home(tmp_path, tmp_path / "in.raw", out)
    sent = np.random.default_rng(5).integers(1, 30000, 8000).astype("<i2")  # no zeros: easy to align
    sent_file = tmp_path / "sent.raw"
    sent.tofile(sent_file)
    run_script(PRELUDE + f"""
import numpy as np
from ivr.audio import SpeakerSink, frames
from ivr.clock import RealClock
async def main():
    x = np.fromfile({str(sent_file)!r}, "<i2")
    sink = SpeakerSink(16000, device="ivrfixture", clock=RealClock())
    for f in frames(x, 16000):
        await sink.write(f)
    await sink.flush()
    await asyncio.sleep(0.2)
    assert abs(sink.played_seconds - 0.5) < 0.01, sink.played_seconds
    await sink.aclose()
asyncio.run(main())
""", env)
    played = np.fromfile(out, "<i2")
    # the null slave is not clocked, so PortAudio pads underruns with silence
    # between blocks; the audio itself must come out whole and in order
    assert np.array_equal(played[played != 0], sent)
