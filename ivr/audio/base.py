"""The two audio seams of a call. A transport, a file, the microphone or a QA
script is a source; a socket, a file, the speaker or a QA recorder is a sink.
Anything with these members plugs into ``CallSession``; ``ClockedSource`` and
``ClockedSink`` are ready-made bases that pace on a ``Clock``."""
from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol, runtime_checkable

from ivr.frames import AudioFrame, DtmfDigit


@runtime_checkable
class AudioSource(Protocol):
    """What the call hears: 16-bit mono frames (normally 20 ms, each with its
    own sample rate and line time), with out-of-band DTMF digits in line order.
    Iteration ends when the caller hangs up."""

    def __aiter__(self) -> AsyncIterator[AudioFrame | DtmfDigit]: ...


@runtime_checkable
class AudioSink(Protocol):
    """Where the bot's prompts go. ``write`` may wait (the line's buffer is
    full); ``clear`` drops what has not been played yet (barge-in) and returns
    the seconds dropped; ``played_seconds`` counts audio that actually reached
    the caller."""

    @property
    def sample_rate(self) -> int: ...

    @property
    def played_seconds(self) -> float: ...

    async def write(self, frame: AudioFrame) -> None: ...

    async def flush(self) -> None:
        """Wait until everything written has played."""
        ...

    def clear(self) -> float: ...
