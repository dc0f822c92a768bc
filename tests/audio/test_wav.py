import subprocess
import sys

import numpy as np
import pytest

from ivr.audio import AudioFormatError, alaw_encode, read_wav, ulaw_encode, write_wav
from ivr.audio.wav import WAVE_ALAW, WAVE_EXTENSIBLE, WAVE_MULAW, WAVE_PCM


def pcm(x: np.ndarray) -> bytes:
    return x.astype("<i2").tobytes()


@pytest.mark.parametrize("rate", [8000, 16000, 44100, 48000])
def test_reads_pcm_mono_at_common_rates(make_wav, rate):
    x = np.arange(-500, 500, dtype=np.int16) * 30
    got, r = read_wav(make_wav(WAVE_PCM, 1, rate, 16, pcm(x)))
    assert r == rate and got.dtype == np.int16 and np.array_equal(got, x)


def test_stereo_is_downmixed(make_wav):
    left = np.array([1000, -2000, 32767, -32768], dtype=np.int16)
    right = np.array([3000, -2000, 32767, -32767], dtype=np.int16)
    inter = np.stack([left, right], axis=1).reshape(-1)
    got, _ = read_wav(make_wav(WAVE_PCM, 2, 16000, 16, pcm(inter)))
    assert list(got) == [2000, -2000, 32767, -32768]


@pytest.mark.parametrize("tag,enc", [(WAVE_MULAW, ulaw_encode), (WAVE_ALAW, alaw_encode)])
def test_g711_wav(make_wav, tag, enc):
    x = (np.sin(np.arange(800) / 5) * 8000).astype(np.int16)
    got, r = read_wav(make_wav(tag, 1, 8000, 8, enc(x)))
    assert r == 8000 and len(got) == 800
    assert np.abs(got.astype(int) - x).max() <= 8000 / 32 + 8


@pytest.mark.parametrize("encoding", ["mu-law", "a-law", "signed-integer"])
def test_reads_what_sox_writes(sox, tmp_path, encoding):
    bits = "16" if encoding == "signed-integer" else "8"
    out = tmp_path / f"sox-{encoding}.wav"
    # sox adds a LIST chunk and (for G.711) a fact chunk: exercises chunk walking
    subprocess.run([sox, "-D", "-n", "-r", "8000", "-c", "2", "-e", encoding, "-b", bits, str(out),
                    "synth", "0.5", "sine", "440", "vol", "0.5"], check=True)
    got, rate = read_wav(out)
    assert rate == 8000 and len(got) == 4000
    ref = 16384 * np.sin(2 * np.pi * 440 * np.arange(4000) / 8000)
    assert np.abs(got - ref).max() < 16384 / 16 + 16


def test_wave_format_extensible_pcm(tmp_path):
    import struct
    x = np.arange(100, dtype=np.int16)
    fmt = struct.pack("<HHIIHHHHI16s", WAVE_EXTENSIBLE, 1, 16000, 32000, 2, 16, 22, 16, 4,
                      struct.pack("<H", WAVE_PCM) + b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71")
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", 200) + pcm(x)
    p = tmp_path / "ext.wav"
    p.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    got, rate = read_wav(p)
    assert rate == 16000 and np.array_equal(got, x)


def test_write_then_read(tmp_path):
    x = np.random.default_rng(1).integers(-32768, 32767, 1234).astype(np.int16)
    p = tmp_path / "w.wav"
    write_wav(p, x, 8000)
    got, rate = read_wav(p)
    assert rate == 8000 and np.array_equal(got, x)
    assert not list(tmp_path.glob("*.part"))


def test_streaming_placeholder_size_reads_to_end(make_wav):
    x = np.arange(50, dtype=np.int16)
    got, _ = read_wav(make_wav(WAVE_PCM, 1, 8000, 16, pcm(x), declared=0xFFFFFFFF))
    assert np.array_equal(got, x)


# -- bad input: one line naming the file and the problem, CLI exit 2 -----------

def bad_files(tmp_path, make_wav):
    good = make_wav(WAVE_PCM, 1, 16000, 16, pcm(np.zeros(1600, dtype=np.int16)))
    files = {}
    files["empty"] = tmp_path / "empty.wav"
    files["empty"].write_bytes(b"")
    files["truncated"] = tmp_path / "truncated.wav"
    files["truncated"].write_bytes(good.read_bytes()[:1000])
    files["text"] = tmp_path / "notes.wav"
    files["text"].write_text("caller said: please call me back\nthanks\n")
    files["24-bit"] = make_wav(WAVE_PCM, 1, 16000, 24, b"\x00\x00\x01" * 1600)
    files["6 channels"] = make_wav(WAVE_PCM, 6, 48000, 16, b"\x00\x00" * 6 * 480)
    return files


PROBLEM = {"empty": "empty", "truncated": "truncated", "text": "not a WAV", "24-bit": "24-bit",
           "6 channels": "6 channels"}


def test_bad_files_raise_one_line_naming_file_and_problem(tmp_path, make_wav):
    for kind, path in bad_files(tmp_path, make_wav).items():
        with pytest.raises(AudioFormatError) as ei:
            read_wav(path)
        msg = str(ei.value)
        assert "\n" not in msg
        assert str(path) in msg and PROBLEM[kind] in msg, (kind, msg)


def test_other_bad_inputs(tmp_path, make_wav):
    with pytest.raises(AudioFormatError, match="no such file"):
        read_wav(tmp_path / "missing.wav")
    with pytest.raises(AudioFormatError, match="sample rate 12345"):
        read_wav(make_wav(WAVE_PCM, 1, 12345, 16, b"\0\0" * 10))
    with pytest.raises(AudioFormatError, match="IEEE float"):
        read_wav(make_wav(3, 1, 16000, 32, b"\0" * 40))
    with pytest.raises(AudioFormatError, match=r"G\.711 is 8-bit"):
        read_wav(make_wav(WAVE_MULAW, 1, 8000, 16, b"\0" * 40))


def test_cli_replay_bad_files_exit_2_without_traceback(tmp_path, make_wav):
    for kind, path in bad_files(tmp_path, make_wav).items():
        proc = subprocess.run([sys.executable, "-m", "ivr", "replay", str(path)], capture_output=True, text=True,
                              timeout=60)
        assert proc.returncode == 2, (kind, proc.stderr)
        assert "Traceback" not in proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1, (kind, proc.stderr)
        assert str(path) in lines[0] and PROBLEM[kind] in lines[0]
