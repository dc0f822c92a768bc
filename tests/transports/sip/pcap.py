"""Write a pcap of G.711 RTP from a WAV file, for SIPp's ``play_pcap_audio``.

The format (libpcap 2.4, Ethernet link type): a 24-byte file header, then per
packet a 16-byte record header and an Ethernet + IPv4 + UDP + RTP frame.
SIPp reads the UDP payloads and their timestamps, and rewrites addresses."""
from __future__ import annotations

import struct
from pathlib import Path

from ivr.audio import read_wav, resample, ulaw_encode


def _ip_checksum(header: bytes) -> int:
    total = sum(struct.unpack(f"!{len(header) // 2}H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _frame(payload: bytes, sport: int = 6000, dport: int = 6002) -> bytes:
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0,
                     bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1]))
    ip = ip[:10] + struct.pack("!H", _ip_checksum(ip)) + ip[12:]
    return b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00" + ip + udp


def rtp_packets(samples_ulaw: bytes, pt: int = 0, ssrc: int = 0x1D5E0001, seq0: int = 1000,
                ts0: int = 160000) -> list[bytes]:
    out = []
    for i in range(0, len(samples_ulaw) - 159, 160):
        head = struct.pack("!BBHII", 0x80, (0x80 if i == 0 else 0) | pt, (seq0 + i // 160) & 0xFFFF,
                           ts0 + i, ssrc)
        out.append(head + samples_ulaw[i:i + 160])
    return out


def write_pcap(path: Path, payloads: list[bytes], interval: float = 0.02, t0: float = 1_700_000_000.0) -> Path:
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, p in enumerate(payloads):
            frame = _frame(p)
            t = t0 + i * interval
            f.write(struct.pack("<IIII", int(t), round((t % 1) * 1e6) % 1_000_000, len(frame), len(frame)))
            f.write(frame)
    return path


def wav_to_pcap(wav: Path, path: Path, lead_silence: float = 0.4, tail_silence: float = 1.2) -> Path:
    """PCMU RTP of ``wav`` (any rate the project reads), with silence around it so the endpointer sees a turn."""
    import numpy as np

    samples, rate = read_wav(wav)
    if rate != 8000:
        samples = resample(samples, rate, 8000)
    pad = lambda s: np.zeros(int(8000 * s), dtype=np.int16)  # noqa: E731
    audio = np.concatenate([pad(lead_silence), samples.astype(np.int16), pad(tail_silence)])
    return write_pcap(path, rtp_packets(ulaw_encode(audio)))
