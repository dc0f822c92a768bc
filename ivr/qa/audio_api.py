"""ivr.audio's public names, taken from its submodules while the package
__init__ does not export them yet (the rooms are built side by side)."""
from __future__ import annotations

import importlib
from typing import Any

_AUDIO_MODULES = {"read_wav": "wav", "wav_bytes": "wav", "resample": "resample", "Endpointer": "vad",
                  "DtmfDetector": "dtmf", "dtmf_tones": "dtmf", "ulaw_encode": "g711", "ulaw_decode": "g711"}


def audio_api(name: str) -> Any:
    """A public name of ivr.audio (from its submodule while the package
    __init__ does not export it yet)."""
    obj = getattr(importlib.import_module("ivr.audio"), name, None)
    if obj is None or type(obj).__name__ == "module":
        obj = getattr(importlib.import_module(f"ivr.audio.{_AUDIO_MODULES[name]}"), name)
    return obj


