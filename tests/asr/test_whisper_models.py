"""The Whisper engine runs any faster-whisper model the registry knows:
whisper-base (default) or whisper-small (user-supplied), named as
``model=`` or ``--engine whisper:whisper-small``."""
from __future__ import annotations

import shutil

import pytest

from ivr.asr import load_engine
from ivr.asr.engines import split_engine_spec
from ivr.errors import IvrError, ModelMissingError
from ivr.paths import shipped
from ivr.registry import Registry

from .helpers import feed, read_pcm


def test_engine_spec_names_engine_and_model():
    assert split_engine_spec("whisper") == ("whisper", None)
    assert split_engine_spec("whisper", "whisper-small") == ("whisper", "whisper-small")
    assert split_engine_spec("whisper:whisper-small") == ("whisper", "whisper-small")
    assert split_engine_spec("whisper:whisper-small", "whisper-small") == ("whisper", "whisper-small")
    for bad in ("whisper:", ":whisper-small"):
        with pytest.raises(IvrError, match="ENGINE:MODEL"):
            split_engine_spec(bad)
    with pytest.raises(IvrError, match="also given"):
        split_engine_spec("whisper:whisper-small", "whisper-base")


def test_missing_whisper_small_says_how_to_install_it_in_one_line(tmp_path):
    reg = Registry(home=tmp_path)
    for spec in ({"name": "whisper", "model": "whisper-small"}, {"name": "whisper:whisper-small"}):
        with pytest.raises(ModelMissingError) as e:
            load_engine(spec["name"], model=spec.get("model"), registry=reg)
        msg = str(e.value)
        assert "\n" not in msg and "whisper-small" in msg
        assert "ivr models install whisper-small --from" in msg


def test_whisper_small_manifest_is_listed_unpinned():
    m = Registry().manifest("whisper-small")
    assert m.engine == "whisper" and m.licence == "MIT" and not m.pinned
    assert {f.path for f in m.files} == {"model.bin", "config.json", "tokenizer.json", "vocabulary.txt"}


def test_a_second_whisper_model_loads_by_name_and_transcribes(tmp_path, mandarin_real):
    """whisper-small installed from a folder (here: base's files stand in; the
    manifest pins no hash) loads through the registry under its own name."""
    try:
        base = Registry().path("whisper-base")
    except ModelMissingError as e:
        pytest.skip(f"whisper-base unavailable: {e}")
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    shutil.copy(shipped("models") / "whisper-small.yaml", manifests)
    reg = Registry(home=tmp_path / "home", manifest_dir=manifests)
    folder = reg.install_dir("whisper-small")
    folder.mkdir(parents=True)
    for f in reg.manifest("whisper-small").files:
        (folder / f.path).symlink_to(base / f.path)
    engine = load_engine("whisper:whisper-small", registry=reg)
    assert engine.model_name == "whisper-small" and engine.model_dir == folder
    x, rate = read_pcm(mandarin_real / "fr_IT0011W0001.wav")
    rec = engine.recognizer(rate)
    feed(rec, x, rate)
    assert "首歌" in rec.finish().text


def test_serve_engine_spec_gets_its_engines_options(monkeypatch):
    """``ivr serve --engine whisper:whisper-small``: the live options meant for
    whisper (speculative decoding, workers) reach the named model too."""
    import ivr.asr
    from ivr.asr import FakeEngine
    from ivr.session.engines import EngineSelector

    calls = []

    def fake_load(name, **options):
        calls.append((name, options))
        return FakeEngine()

    monkeypatch.setattr(ivr.asr, "load_engine", fake_load)
    sel = EngineSelector(routes={}, fallback="whisper:whisper-small", options={"whisper": {"speculative": True}})
    name, _ = sel.choose("zh-TW")
    assert name == "whisper:whisper-small"
    assert calls == [("whisper:whisper-small", {"speculative": True})]
