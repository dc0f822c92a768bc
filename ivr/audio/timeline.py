"""The event timeline of a recording: speech turns and DTMF keys.

``ivr replay`` prints this; other rooms extend it (transcripts per turn), so
the analysis is here as plain functions over frames."""
from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

import numpy as np

from ivr.frames import AudioFrame, DtmfDigit, SpeechStarted, SpeechStopped

from .dtmf import DtmfDetector
from .framing import frames
from .resample import resample
from .vad import Endpointer
from .wav import read_wav

TimelineEvent = SpeechStarted | SpeechStopped | DtmfDigit


def analysis_rate(rate: int) -> int:
    """Telephone audio stays at 8 kHz; anything else is analysed at 16 kHz."""
    return 8000 if rate <= 8000 else 16000


def analyse_frames(frame_iter: Iterable[AudioFrame], sample_rate: int,
                   end_silence_ms: int = 700) -> list[TimelineEvent]:
    """Run the endpointer and the DTMF detector over frames at ``sample_rate``
    (8 or 16 kHz). While a key tone sounds the endpointer hears silence, so a
    key press is not also reported as speech."""
    ep = Endpointer(sample_rate, end_silence_ms)
    det = DtmfDetector(sample_rate)
    events: list[TimelineEvent] = []
    end = 0.0
    silence: bytes | None = None
    for frame in frame_iter:
        digits = det.process(frame)
        events += digits
        if det.tone_present or digits:
            if silence is None or len(silence) != len(frame.pcm):
                silence = bytes(len(frame.pcm))
            frame = AudioFrame(silence, frame.sample_rate, frame.timestamp)
        events += ep.process(frame)
        end = frame.end
    events += ep.finish(end)
    events.sort(key=lambda e: e.timestamp)
    return events


def analyse_samples(samples: np.ndarray, rate: int, end_silence_ms: int = 700) -> list[TimelineEvent]:
    target = analysis_rate(rate)
    x = resample(samples, rate, target) if rate != target else samples
    return analyse_frames(frames(x, target), target, end_silence_ms)


def analyse(path: str | os.PathLike[str], end_silence_ms: int = 700) -> list[TimelineEvent]:
    """Events of a WAV file in time order: ``SpeechStarted``/``SpeechStopped``
    (a stop's ``start`` pairs it with its start) and in-band ``DtmfDigit``s.
    Raises ``AudioFormatError`` for a file it cannot read."""
    samples, rate = read_wav(path)
    return analyse_samples(samples, rate, end_silence_ms)


def timeline_rows(events: Iterable[TimelineEvent]) -> list[dict[str, Any]]:
    """JSON-ready rows: one per speech segment and one per key press, in time order."""
    rows: list[dict[str, Any]] = []
    for e in events:
        if isinstance(e, SpeechStopped):
            rows.append({"type": "speech", "start": round(e.start, 3), "end": round(e.timestamp, 3),
                         "duration": round(e.duration, 3)})
        elif isinstance(e, DtmfDigit):
            rows.append({"type": "dtmf", "digit": e.digit, "time": round(e.timestamp, 3), "source": e.source,
                         "duration": round(e.duration, 3)})
    rows.sort(key=lambda r: r["start"] if r["type"] == "speech" else r["time"])
    return rows


def format_timeline(rows: Iterable[dict[str, Any]]) -> str:
    lines = []
    for r in rows:
        if r["type"] == "speech":
            said = f"  {r['text']!r} conf {r['confidence']:.2f} intent {r['intent']}" if "text" in r else ""
            lines.append(f"{r['start']:8.2f} - {r['end']:7.2f}  speech  ({r['duration']:.2f} s){said}")
        elif r["type"] == "dtmf":
            lines.append(f"{r['time']:8.2f}            dtmf    {r['digit']}  ({r['source']})")
        else:  # rows other rooms add (e.g. transcripts) keep a readable fallback
            t = r.get("time", r.get("start", 0.0))
            rest = ", ".join(f"{k}={v}" for k, v in r.items() if k not in ("type", "time", "start"))
            lines.append(f"{t:8.2f}            {r['type']:<7} {rest}")
    return "\n".join(lines)
