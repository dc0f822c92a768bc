"""``load_engine``: engine name -> loaded Engine, its model found through the
registry (or an explicit folder)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ivr.asr.base import Engine
from ivr.errors import IvrError
from ivr.registry import Registry

# engine name -> (module, class, default registry model)
ENGINES: dict[str, tuple[str, str, str | None]] = {
    "whisper": ("ivr.asr.whisper", "WhisperEngine", "whisper-base"),
    "vosk": ("ivr.asr.vosk", "VoskEngine", "vosk-model-cn-0.22"),
    "sphinx": ("ivr.asr.sphinx", "SphinxEngine", "pocketsphinx-zh"),
    "fake": ("ivr.asr.fake", "FakeEngine", None),
}


def load_engine(name: str, model_dir: str | Path | None = None, *, model: str | None = None,
                registry: Registry | None = None, **options: Any) -> Engine:
    """Load engine ``name`` ("whisper", "vosk", "sphinx", "fake"), or
    ``"engine:model"`` ("whisper:whisper-small": what ``--engine`` takes).

    ``model_dir``: a model folder to use as is; else ``model`` (a registry
    name, default per engine) is found and verified through the registry.
    Raises ModelMissingError / ModelCorruptError with a one-line fix."""
    name, model = split_engine_spec(name, model)
    if name not in ENGINES:
        raise IvrError(f"unknown engine {name!r} (known: {', '.join(ENGINES)})", "asr")
    module, cls, default_model = ENGINES[name]
    import importlib

    engine_cls = getattr(importlib.import_module(module), cls)
    if name == "fake":
        return engine_cls(**options)
    if model_dir is None:
        reg = registry or Registry()
        model_name = model or default_model
        if model_name is None:
            raise IvrError(f"engine {name} has no default model: name one with model=", "asr")
        if reg.manifest(model_name).engine != name:
            raise IvrError(f"model {model_name} is for engine {reg.manifest(model_name).engine}, not {name}", "asr")
        model_dir = reg.path(model_name)
        if name == "whisper":  # named for its error messages
            options.setdefault("model_name", model_name)
    else:
        model_dir = Path(model_dir)
        if not model_dir.is_dir():
            raise IvrError(f"model folder {model_dir} does not exist", f"asr {name}")
    return engine_cls(Path(model_dir), **options)


def split_engine_spec(spec: str, model: str | None = None) -> tuple[str, str | None]:
    """``"whisper:whisper-small"`` -> ("whisper", "whisper-small"); a plain
    engine name keeps ``model``. Naming a model twice, differently, is an error."""
    if ":" not in spec:
        return spec, model
    engine, _, named = spec.partition(":")
    if not engine or not named:
        raise IvrError(f"engine {spec!r} is not ENGINE or ENGINE:MODEL", "asr")
    if model is not None and model != named:
        raise IvrError(f"engine {spec!r} names model {named}, but model={model!r} was also given", "asr")
    return engine, named
