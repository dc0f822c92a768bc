"""Rate conversion for engines whose model wants a fixed rate: the audio
room's polyphase resampler (one implementation for the whole product)."""
from __future__ import annotations

from ivr.audio.resample import resample

__all__ = ["resample"]
