"""ivr: offline voice IVR for Taiwanese call centres.

The public API is what this module exports."""
from ivr.clock import Clock, RealClock, VirtualClock
from ivr.errors import AudioFormatError, IvrError
from ivr.frames import (
    ActionResult,
    AudioFrame,
    CallBackend,
    CallEnded,
    CallStarted,
    DtmfDigit,
    Hangup,
    Listen,
    NoInput,
    Say,
    SpeechStarted,
    SpeechStopped,
    Transcript,
    Transfer,
    UserInput,
)

__version__ = "0.1.0"

__all__ = [
    "Clock", "RealClock", "VirtualClock", "IvrError", "AudioFormatError",
    "ActionResult", "AudioFrame", "CallBackend", "CallEnded", "CallStarted", "DtmfDigit", "Hangup",
    "Listen", "NoInput", "Say", "SpeechStarted", "SpeechStopped", "Transcript", "Transfer", "UserInput",
]
