"""pyttsx3 (system espeak-ng driver) with the ``cmn-latn-pinyin`` voice.

Debian espeak-ng 1.51's ``cmn`` voice reads pinyin in English, so the text is
converted to numbered pinyin for ``cmn-latn-pinyin``. pyttsx3 only writes
files; its WAV can appear after ``runAndWait()`` returns, so we wait for it.

pyttsx3 runs in a child process: the system libespeak-ng and the one bundled
by espeakng-loader (the ``espeak`` engine) share a soname, so in one process
the second load silently returns the first library with the wrong data path.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from ivr.prompts.engine import check_text, yao_for_g2p
from ivr.prompts.errors import TtsError
from ivr.prompts.wavio import read_wav


class Pyttsx3Tts:
    name = "pyttsx3"
    DEFAULT_VOICE = "cmn-latn-pinyin"

    def __init__(self, voice: str = DEFAULT_VOICE, words_per_minute: int = 150, file_timeout: float = 10.0) -> None:
        self.voice = voice
        self.words_per_minute = words_per_minute
        self.file_timeout = file_timeout
        self._started = False
        self._lock = threading.Lock()

    @property
    def variant(self) -> str:
        return f"wpm={self.words_per_minute}"

    @property
    def loaded(self) -> bool:
        return self._started

    def synthesize(self, text: str) -> tuple[np.ndarray, int]:
        text = check_text(text, "tts pyttsx3")
        from pypinyin import Style, lazy_pinyin

        spoken = " ".join(lazy_pinyin(yao_for_g2p(text), style=Style.TONE3, neutral_tone_with_five=True))
        with self._lock, tempfile.TemporaryDirectory(prefix="ivr-pyttsx3-") as tmp:
            out = Path(tmp) / "say.wav"
            self._started = True
            try:
                proc = subprocess.run(
                    [sys.executable, "-m", "ivr.prompts.pyttsx3_tts", "--voice", self.voice,
                     "--rate", str(self.words_per_minute), "--timeout", str(self.file_timeout), str(out)],
                    input=spoken.encode("utf-8"), capture_output=True, timeout=self.file_timeout + 30)
            except subprocess.TimeoutExpired:
                raise TtsError("pyttsx3 worker timed out", "tts pyttsx3") from None
            if proc.returncode != 0:
                last = (proc.stderr.decode("utf-8", "replace").strip().splitlines() or ["no output"])[-1]
                raise TtsError(f"pyttsx3 worker failed: {last}", "tts pyttsx3")
            return read_wav(out)


def _speak_to_file(text: str, voice: str, rate: int, out: Path, timeout: float) -> None:
    """Runs in the worker process."""
    try:
        import pyttsx3
    except ImportError:
        raise TtsError("pyttsx3 engine needs PyPI pyttsx3: pip install 'ivr[tts]'", "tts pyttsx3") from None
    try:
        eng = pyttsx3.init("espeak")
    except Exception as exc:  # pyttsx3 raises bare errors when libespeak is absent
        raise TtsError(f"cannot start pyttsx3 espeak driver ({exc})", "tts pyttsx3") from None
    voices = eng.getProperty("voices")
    # espeak voice ids carry a family prefix ("sit/cmn-latn-pinyin")
    match = [v.id for v in voices if voice in (v.id, v.name) or v.id.endswith("/" + voice)]
    if not match:
        raise TtsError(f"pyttsx3 has no voice {voice!r}", "tts pyttsx3")
    eng.setProperty("voice", match[0])
    eng.setProperty("rate", rate)
    eng.save_to_file(text, str(out))
    eng.runAndWait()
    _wait_for_wav(out, timeout)


def _wait_for_wav(path: Path, timeout: float) -> None:
    """The driver finishes writing after runAndWait() returns: wait until the
    file exists and its size stops changing."""
    deadline = time.monotonic() + timeout
    last = -1
    while time.monotonic() < deadline:
        size = path.stat().st_size if path.exists() else -1
        if size > 44 and size == last:
            return
        last = size
        time.sleep(0.05)
    raise TtsError(f"pyttsx3 wrote no audio within {timeout:.0f} s", str(path))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="pyttsx3 worker: text on stdin -> WAV file")
    ap.add_argument("--voice", required=True)
    ap.add_argument("--rate", type=int, default=150)
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("out", type=Path)
    a = ap.parse_args(argv)
    try:
        _speak_to_file(sys.stdin.read(), a.voice, a.rate, a.out, a.timeout)
    except TtsError as exc:
        print(exc, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
