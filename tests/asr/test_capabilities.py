"""Every engine declares what it can do; the session routes on these
declarations (see tests/session/test_parts.py), not on engine names."""
from __future__ import annotations

import pytest

from ivr.asr import ENGINES, Engine, EngineCapabilities, FakeEngine


@pytest.mark.parametrize("name", sorted(ENGINES))
def test_each_engine_class_declares_capabilities(name):
    import importlib

    module, cls, _ = ENGINES[name]
    engine_cls = importlib.import_module(module).__dict__[cls]
    assert issubclass(engine_cls, Engine)
    assert "capabilities" not in engine_cls.__abstractmethods__, f"{cls} does not declare its capabilities"


def test_declared_capabilities_of_the_shipped_engines():
    from ivr.asr.sphinx import SphinxEngine
    from ivr.asr.whisper import WhisperEngine

    sphinx, whisper = SphinxEngine.capabilities, WhisperEngine.capabilities
    assert isinstance(sphinx, EngineCapabilities) and isinstance(whisper, EngineCapabilities)
    assert sphinx.grammar and not sphinx.free_speech and "nan-TW" in sphinx.languages
    assert whisper.free_speech and not whisper.grammar
    assert FakeEngine().capabilities.free_speech and FakeEngine(partials=True).capabilities.streaming


def test_an_engine_without_declared_capabilities_cannot_be_made():
    class Undeclared(Engine):
        def recognizer(self, sample_rate=16000):
            raise NotImplementedError

    with pytest.raises(TypeError, match="capabilities"):
        Undeclared(".")
