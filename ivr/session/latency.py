"""Where a caller's wait for the reply goes, turn by turn.

From the end of the caller's speech (or their last key) to the first reply
frame written to the line, split into consecutive stages that add up to the
total:

- ``endpoint``: the end-of-turn wait (the step's silence, or the short pause
  when the answer was already complete), on the caller-audio timeline;
- ``queue``: the turn's decode waiting behind this call's earlier recognizer
  work (audio still being fed, a partial being decoded);
- ``decode``: the recognizer's ``finish`` itself (for a speculative Whisper
  decode already running, the rest of it);
- ``nlu_dialog``: understanding and the dialog step (without backend calls);
- ``backend``: backend calls the step made before replying (a balance look-up);
- ``render``: synthesizing (or loading) the reply prompt;
- ``first_frame``: from the rendered prompt to its first frame on the line.

The session marks each moment on the call's clock; ``finish`` returns the
stages (seconds) for the call record's ``latency`` event and the Prometheus
histogram ``ivr_turn_stage_seconds{stage}``.
"""
from __future__ import annotations

from dataclasses import dataclass

from ivr.clock import Clock

STAGES = ("endpoint", "queue", "decode", "nlu_dialog", "backend", "render", "first_frame")


@dataclass
class _Marks:
    by: str  # how the turn ended: silence | complete | dtmf
    endpoint: float  # seconds of end-of-turn wait
    got: float  # clock time the session took the turn
    heard: float | None = None  # clock time the transcript was in hand
    decode: float = 0.0
    backend: float = 0.0
    render_start: float | None = None
    rendered: float | None = None


class TurnLatency:
    """The marks of the call's current turn (one turn at a time)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._turn: _Marks | None = None

    def spoken(self, speech_end: float, stopped_at: float, ended_by: str) -> None:
        """The endpointer called a speech turn over at ``stopped_at`` (caller-audio time)."""
        self._turn = _Marks(ended_by, max(0.0, stopped_at - speech_end), self.clock.now())

    def keyed(self, last_key: float) -> None:
        now = self.clock.now()
        self._turn = _Marks("dtmf", max(0.0, now - last_key), now, heard=now)

    def transcript(self, decode_seconds: float) -> None:
        t = self._turn
        if t is not None and t.heard is None:
            t.heard = self.clock.now()
            t.decode = max(0.0, min(decode_seconds, t.heard - t.got))

    def backend(self, seconds: float) -> None:
        if self._turn is not None and self._turn.render_start is None:
            self._turn.backend += seconds

    def rendering(self) -> None:
        if self._turn is not None and self._turn.render_start is None:
            self._turn.render_start = self.clock.now()

    def rendered(self) -> None:
        t = self._turn
        if t is not None and t.render_start is not None and t.rendered is None:
            t.rendered = self.clock.now()

    def drop(self) -> None:
        """No reply is timed for this turn (no input, or the turn was lost)."""
        self._turn = None

    def finish(self) -> tuple[str, dict[str, float]] | None:
        """The first reply frame is going out now: (how the turn ended, stage ->
        seconds, with ``total``), or None when no turn is being timed."""
        t, self._turn = self._turn, None
        if t is None:
            return None
        now = self.clock.now()
        heard = t.heard if t.heard is not None else t.got
        start = t.render_start if t.render_start is not None else now
        rendered = t.rendered if t.rendered is not None else start
        stages = {
            "endpoint": t.endpoint,
            "queue": max(0.0, heard - t.got - t.decode),
            "decode": t.decode,
            "nlu_dialog": max(0.0, start - heard - t.backend),
            "backend": t.backend,
            "render": max(0.0, rendered - start),
            "first_frame": max(0.0, now - rendered),
        }
        stages = {k: round(v, 4) for k, v in stages.items()}
        stages["total"] = round(t.endpoint + max(0.0, now - t.got), 4)
        return t.by, stages
