"""espeak-ng 1.52 through the library and data bundled in PyPI ``espeakng-loader``.

Debian's espeak-ng 1.51 ``cmn`` voice is broken (it reads pinyin letters in
English); 1.52 fixed it, hence the bundled copy. Fast and small, far less
intelligible than Kokoro: the fallback engine.
"""
from __future__ import annotations

import ctypes
import threading
from typing import TYPE_CHECKING

import numpy as np

from ivr.log import get_logger
from ivr.prompts.engine import check_text, yao_for_g2p
from ivr.prompts.errors import TtsError

if TYPE_CHECKING:
    import opencc

log = get_logger(__name__)

_SYNCHRONOUS = 0x02  # AUDIO_OUTPUT_SYNCHRONOUS: espeak_Synth returns when all audio was delivered
_CHARS_UTF8 = 1
_RATE = 1  # espeakRATE
_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)
# libespeak-ng keeps one synthesizer per process (voice, callback, buffers are C
# globals), so every engine instance in the process must share this lock.
_PROCESS_LOCK = threading.Lock()
# ...and it must be initialized once: calling espeak_Initialize again in the same
# process (one EspeakTts per test, per renderer) later hung and then segfaulted
# espeak_Synth in CI. The library object mirrors that C global: one per process.
_LIBRARY: _Library | None = None


def _library() -> _Library:
    """The process's one initialized libespeak-ng (call under ``_PROCESS_LOCK``)."""
    global _LIBRARY
    if _LIBRARY is None:
        _LIBRARY = _Library()
    return _LIBRARY


class _Library:
    """The loaded, initialized C library: one per process (``_library()``)."""

    def __init__(self) -> None:
        try:
            import espeakng_loader
        except ImportError:
            raise TtsError("espeak needs PyPI espeakng-loader: pip install 'ivr[tts]'", "tts espeak") from None
        try:
            self.lib = ctypes.CDLL(espeakng_loader.get_library_path())
        except OSError as exc:
            raise TtsError(f"cannot load libespeak-ng ({exc})", "tts espeak") from None
        self.lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        self.lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self.lib.espeak_SetSynthCallback.argtypes = [_CALLBACK]
        self.lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        self.lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                          ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        rate = self.lib.espeak_Initialize(_SYNCHRONOUS, 0, espeakng_loader.get_data_path().encode(), 0)
        if rate <= 0:
            raise TtsError("espeak_Initialize failed (bundled data missing?)", "tts espeak")
        self.sample_rate = rate
        self.chunks: list[np.ndarray] = []
        # kept on self: ctypes callbacks must outlive every call into the library
        self.callback = _CALLBACK(self._collect)
        self.lib.espeak_SetSynthCallback(self.callback)

    def _collect(self, wav, n, _events) -> int:
        if wav and n > 0:
            self.chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
        return 0


class EspeakTts:
    name = "espeak"
    DEFAULT_VOICE = "cmn"

    def __init__(self, voice: str = DEFAULT_VOICE, words_per_minute: int = 150) -> None:
        self.voice = voice
        self.words_per_minute = words_per_minute
        self._lib: _Library | None = None
        self._t2s: opencc.OpenCC | None = None

    @property
    def variant(self) -> str:
        return f"wpm={self.words_per_minute}"

    @property
    def loaded(self) -> bool:
        return self._lib is not None

    def _text_for_voice(self, text: str) -> str:
        text = yao_for_g2p(text)
        if self.voice.startswith("cmn-latn"):
            from pypinyin import Style, lazy_pinyin
            return " ".join(lazy_pinyin(text, style=Style.TONE3, neutral_tone_with_five=True))
        if self._t2s is None:
            import opencc
            self._t2s = opencc.OpenCC("t2s")
        return self._t2s.convert(text)

    def synthesize(self, text: str) -> tuple[np.ndarray, int]:
        text = check_text(text, "tts espeak")
        spoken = self._text_for_voice(text).encode("utf-8")
        with _PROCESS_LOCK:
            if self._lib is None:
                self._lib = _library()
            lib = self._lib
            # another instance may have installed its callback since
            lib.lib.espeak_SetSynthCallback(lib.callback)
            if lib.lib.espeak_SetVoiceByName(self.voice.encode()) != 0:
                raise TtsError(f"unknown espeak-ng voice {self.voice!r}", "tts espeak")
            lib.lib.espeak_SetParameter(_RATE, self.words_per_minute, 0)
            lib.chunks = []
            err = lib.lib.espeak_Synth(spoken, len(spoken) + 1, 0, 0, 0, _CHARS_UTF8, None, None)
            lib.lib.espeak_Synchronize()
            chunks, lib.chunks = lib.chunks, []
        if err != 0 or not chunks:
            raise TtsError(f"espeak_Synth failed (error {err})", "tts espeak")
        return np.concatenate(chunks).astype(np.int16), lib.sample_rate
