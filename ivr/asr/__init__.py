"""Speech recognition: one Engine per process, one Recognizer per call.

    engine = load_engine("whisper")            # or "sphinx", "vosk", "fake"
    rec = engine.recognizer(sample_rate=16000)
    rec.set_expected(["是", "不是"], language="zh-TW")
    rec.accept(pcm)  -> Transcript | None      # partial, engine permitting
    rec.finish()     -> Transcript             # final, Traditional characters
"""
from ivr.asr.async_recognizer import AsyncRecognizer
from ivr.asr.base import SAMPLE_RATES, Engine, EngineCapabilities, Recognizer
from ivr.asr.engines import ENGINES, load_engine
from ivr.asr.fake import FakeEngine, FakeRecognizer
from ivr.asr.scoring import cer, char_errors, normalize_for_cer
from ivr.asr.text import to_simplified, to_traditional

__all__ = [
    "Engine", "EngineCapabilities", "Recognizer", "AsyncRecognizer", "FakeRecognizer", "FakeEngine", "load_engine",
    "ENGINES",
    "SAMPLE_RATES", "to_traditional", "to_simplified", "cer", "char_errors", "normalize_for_cer",
]
