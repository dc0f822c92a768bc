"""Who has the floor: the turn-taking and barge-in state machine.

All interrupt logic lives here and nowhere else. The session tells it when a
prompt starts and ends and feeds it detector events; it answers whether the
caller has just barged in, and whether caller input should be kept (input
during a non-interruptible prompt is dropped: the caller was told to listen).

Barge-in on speech needs ``confirm_ms`` of continued speech after the
endpointer's SpeechStarted, so a click or a cough does not cut a prompt; a
DTMF key barges in at once.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Floor(Enum):
    NOBODY = "nobody"
    BOT = "bot"          # a prompt is playing
    CALLER = "caller"    # the caller is speaking


@dataclass(frozen=True)
class BargeInPolicy:
    enabled: bool = True
    confirm_ms: int = 60
    dtmf: bool = True


@dataclass(frozen=True)
class BargeIn:
    """The caller interrupted the prompt at call time ``t`` (``by`` speech|dtmf)."""

    t: float
    by: str


class TurnTaking:
    def __init__(self, policy: BargeInPolicy | None = None) -> None:
        self.policy = policy or BargeInPolicy()
        self.prompt_playing = False
        self.prompt_interruptible = True
        self.speech_since: float | None = None
        self.prompt_since = 0.0
        self._speech_kept = False
        self._barged = False

    @property
    def floor(self) -> Floor:
        if self.prompt_playing:
            return Floor.BOT
        return Floor.CALLER if self.speech_since is not None else Floor.NOBODY

    # -- bot side ---------------------------------------------------------
    def prompt_started(self, interruptible: bool, t: float = 0.0) -> None:
        self.prompt_since = t
        self.prompt_playing = True
        self.prompt_interruptible = interruptible
        self._barged = False

    def prompt_ended(self) -> None:
        self.prompt_playing = False

    # -- caller side ------------------------------------------------------
    def _can_interrupt(self) -> bool:
        return self.prompt_playing and self.prompt_interruptible and self.policy.enabled and not self._barged

    def speech_started(self, t: float) -> bool:
        """Returns whether this utterance is kept as caller input."""
        self.speech_since = t
        self._speech_kept = not (self.prompt_playing and not self.prompt_interruptible)
        return self._speech_kept

    def speech_stopped(self) -> bool:
        """Returns whether the utterance that just ended is kept."""
        kept = self.speech_since is not None and self._speech_kept
        self.speech_since = None
        return kept

    @property
    def speech_kept(self) -> bool:
        return self.speech_since is not None and self._speech_kept

    def tick(self, t: float) -> BargeIn | None:
        """Call on every input frame (``t`` = end of the frame)."""
        if self.speech_since is None or not self._can_interrupt():
            return None
        if self.speech_since < self.prompt_since:
            return None  # still the turn the caller began before this prompt: not an interruption
        if (t - self.speech_since) * 1000.0 >= self.policy.confirm_ms:
            self._barged = True
            return BargeIn(t, "speech")
        return None

    def dtmf(self, t: float) -> tuple[bool, BargeIn | None]:
        """A key was pressed: (keep it as input, barge-in or None)."""
        if self.prompt_playing and not self.prompt_interruptible:
            return False, None
        if self._can_interrupt() and self.policy.dtmf:
            self._barged = True
            return True, BargeIn(t, "dtmf")
        return True, None
