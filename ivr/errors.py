"""Errors a user can act on: one line naming the problem and where.

The CLI prints ``str(err)`` and exits 2; no traceback reaches the user for
these. Anything else is a bug and keeps its traceback."""
from __future__ import annotations


class IvrError(Exception):
    """Base for user-facing errors. ``where`` is a file, file:line, a socket
    peer, a model name: whatever the user must look at."""

    exit_code = 2

    def __init__(self, message: str, where: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.where = where

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class AudioFormatError(IvrError):
    """A WAV or stream we cannot read (empty, truncated, unsupported format)."""


class ModelMissingError(IvrError):
    """A model is not installed; the message names the command that installs it."""


class ModelCorruptError(IvrError):
    """A model is present but fails its checksum or cannot be loaded."""


class FlowError(IvrError):
    """A flow file that does not load or validate."""


class BackendError(IvrError):
    """A backend action failed or timed out."""


class ProtocolError(IvrError):
    """Garbage on a socket: a frame or message we cannot parse."""
