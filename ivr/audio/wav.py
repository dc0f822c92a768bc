"""WAV file reading and writing, parsing RIFF chunks with ``struct``.

Parsing by hand (rather than soundfile) lets every failure name the file and
the exact problem in one line, and handles the G.711 WAVs telephone systems
write (format tags 6 and 7) without another native library."""
from __future__ import annotations

import os
import stat
import struct
from pathlib import Path

import numpy as np

from ivr.errors import AudioFormatError

from .g711 import alaw_decode, ulaw_decode

WAVE_PCM = 0x0001
WAVE_FLOAT = 0x0003
WAVE_ALAW = 0x0006
WAVE_MULAW = 0x0007
WAVE_EXTENSIBLE = 0xFFFE

SUPPORTED_RATES = (8000, 11025, 16000, 22050, 32000, 44100, 48000)
_FORMAT_NAMES = {WAVE_PCM: "PCM", WAVE_FLOAT: "IEEE float", WAVE_ALAW: "A-law", WAVE_MULAW: "mu-law",
                 0x0002: "MS ADPCM", 0x0011: "IMA ADPCM", 0x0031: "GSM 6.10", 0x0055: "MP3"}
# A streaming writer that never came back to patch the sizes leaves these.
_UNKNOWN_SIZES = (0, 0xFFFFFFFF)
MAX_WAV_BYTES = 1 << 30  # 1 GiB: about 9 hours of 16 kHz mono; anything larger is not a call


def _fail(path: str, problem: str) -> AudioFormatError:
    return AudioFormatError(problem, where=path)


def read_wav(path: str | os.PathLike[str]) -> tuple[np.ndarray, int]:
    """Read a WAV file as (int16 mono samples, sample rate).

    Accepts 16-bit PCM, 8-bit G.711 mu-law / A-law, mono or stereo (averaged),
    at 8, 11.025, 16, 22.05, 32, 44.1 or 48 kHz. Anything else raises
    ``AudioFormatError`` naming the file and the problem."""
    where = str(path)
    try:
        st = os.stat(path)
        # /dev/zero, a FIFO or a 3 GB file must fail in one line, not exhaust memory
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(where)
        if not stat.S_ISREG(st.st_mode):
            raise _fail(where, "not a regular file, not a WAV file")
        if st.st_size > MAX_WAV_BYTES:
            raise _fail(where, f"{st.st_size / 2**20:.0f} MB is over the {MAX_WAV_BYTES // 2**20} MB limit for one WAV")
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise _fail(where, "no such file") from None
    except IsADirectoryError:
        raise _fail(where, "is a directory, not a WAV file") from None
    except OSError as e:
        raise _fail(where, f"cannot read: {e.strerror or e}") from None
    return parse_wav(data, where)


def parse_wav(data: bytes, where: str = "<bytes>") -> tuple[np.ndarray, int]:
    """``read_wav`` for bytes already in memory (``where`` names them in errors)."""
    if not data:
        raise _fail(where, "empty file (0 bytes), not a WAV file")
    if len(data) < 12 or data[:4] not in (b"RIFF", b"RIFX", b"RF64") or data[8:12] != b"WAVE":
        head = data[:4]
        kind = "text" if _looks_like_text(data) else "data"
        raise _fail(where, f"not a WAV file (starts with {head!r}; looks like {kind}, expected a RIFF/WAVE header)")
    if data[:4] != b"RIFF":
        raise _fail(where, f"unsupported WAV container {data[:4].decode('ascii')} (only little-endian RIFF)")

    fmt: tuple[int, int, int, int, int] | None = None
    pos = 12
    while pos + 8 <= len(data):
        cid, size = struct.unpack_from("<4sI", data, pos)
        body = pos + 8
        if cid == b"fmt ":
            if size < 16 or body + 16 > len(data):
                raise _fail(where, f"truncated WAV: fmt chunk is {min(size, len(data) - body)} bytes, needs 16")
            tag, channels, rate, _, block_align, bits = struct.unpack_from("<HHIIHH", data, body)
            if tag == WAVE_EXTENSIBLE and size >= 40 and body + 26 <= len(data):
                tag = struct.unpack_from("<H", data, body + 24)[0]  # first two bytes of the sub-format GUID
            fmt = (tag, channels, rate, block_align, bits)
        elif cid == b"data":
            if fmt is None:
                raise _fail(where, "bad WAV: data chunk comes before the fmt chunk")
            available = len(data) - body
            if size in _UNKNOWN_SIZES:
                size = available
            elif size > available:
                raise _fail(where, f"truncated WAV: data chunk declares {size} bytes but only {available} are present")
            return _decode(data[body:body + size], fmt, where)
        pos = body + size + (size & 1)  # chunks are word-aligned
    if fmt is None:
        raise _fail(where, "truncated WAV: no fmt chunk")
    raise _fail(where, "truncated WAV: no data chunk")


def _looks_like_text(data: bytes) -> bool:
    sample = data[:512]
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _decode(raw: bytes, fmt: tuple[int, int, int, int, int], where: str) -> tuple[np.ndarray, int]:
    tag, channels, rate, _block_align, bits = fmt
    name = _FORMAT_NAMES.get(tag, f"format tag {tag:#06x}")
    if channels not in (1, 2):
        raise _fail(where, f"unsupported WAV: {channels} channels (only mono or stereo)")
    if rate not in SUPPORTED_RATES:
        rates = ", ".join(f"{r / 1000:g}" for r in SUPPORTED_RATES)
        raise _fail(where, f"unsupported WAV: sample rate {rate} Hz (supported: {rates} kHz)")
    if tag == WAVE_PCM:
        if bits != 16:
            raise _fail(where, f"unsupported WAV: {bits}-bit PCM (only 16-bit PCM, mu-law or A-law)")
        usable = len(raw) - len(raw) % (2 * channels)
        samples = np.frombuffer(raw[:usable], dtype="<i2")
    elif tag in (WAVE_MULAW, WAVE_ALAW):
        if bits != 8:
            raise _fail(where, f"unsupported WAV: {bits}-bit {name} (G.711 is 8-bit)")
        usable = len(raw) - len(raw) % channels
        samples = (ulaw_decode if tag == WAVE_MULAW else alaw_decode)(raw[:usable])
    else:
        raise _fail(where, f"unsupported WAV encoding {name} (only 16-bit PCM, mu-law or A-law)")
    if channels == 2:
        pairs = samples.reshape(-1, 2).astype(np.int32)
        # floor division of the sum keeps the downmix exact and never clips
        samples = ((pairs[:, 0] + pairs[:, 1]) >> 1).astype(np.int16)
    return np.array(samples, dtype=np.int16), rate


def wav_bytes(samples: np.ndarray, rate: int) -> bytes:
    """A complete 16-bit mono PCM WAV file as bytes."""
    pcm = np.clip(np.asarray(samples), -32768, 32767).astype("<i2").tobytes()
    header = struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + len(pcm), b"WAVE", b"fmt ", 16, WAVE_PCM, 1,
                         rate, rate * 2, 2, 16, b"data", len(pcm))
    return header + pcm


def write_wav(path: str | os.PathLike[str], samples: np.ndarray, rate: int) -> None:
    """Write 16-bit mono PCM; the file appears whole (written beside it, then renamed)."""
    target = Path(path)
    tmp = target.with_name(target.name + ".part")
    tmp.write_bytes(wav_bytes(samples, rate))
    os.replace(tmp, target)
