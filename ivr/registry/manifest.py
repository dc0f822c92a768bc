"""Model manifests: one YAML file per model in ``models/``."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ivr.errors import IvrError

REQUIRED = ("name", "engine", "language", "sample_rate", "licence", "source", "install", "files")


@dataclass(frozen=True)
class FileEntry:
    path: str
    size: int
    sha256: str | None


@dataclass(frozen=True)
class Manifest:
    name: str
    engine: str
    language: tuple[str, ...]
    sample_rate: int
    size: int  # total bytes of ``files``
    sha256: str | None  # tree hash (see ivr.registry.hashing); None = user-supplied, not pinned
    licence: str
    source: str
    install: str  # human instructions, shown by `ivr models list`
    files: tuple[FileEntry, ...]
    # where the registry can fetch the model without network: list of dicts, see Registry.install
    sources: tuple[dict[str, Any], ...] = ()
    description: str = ""
    origin: Path | None = field(default=None, compare=False)

    @property
    def pinned(self) -> bool:
        return self.sha256 is not None


def load_manifest(path: Path) -> Manifest:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise IvrError(f"cannot read model manifest: {str(e).splitlines()[0]}", str(path)) from None
    if not isinstance(data, dict):
        raise IvrError("model manifest is not a mapping", str(path))
    missing = [k for k in REQUIRED if k not in data]
    if missing:
        raise IvrError(f"model manifest lacks {', '.join(missing)}", str(path))
    files = []
    for rel, spec in (data["files"] or {}).items():
        spec = spec if isinstance(spec, dict) else {"size": spec}
        files.append(FileEntry(str(rel), int(spec.get("size", -1)), spec.get("sha256")))
    lang = data["language"]
    return Manifest(
        name=str(data["name"]),
        engine=str(data["engine"]),
        language=tuple(lang if isinstance(lang, list) else [lang]),
        sample_rate=int(data["sample_rate"]),
        size=int(data.get("size") or sum(max(f.size, 0) for f in files)),
        sha256=data.get("sha256"),
        licence=str(data["licence"]),
        source=str(data["source"]),
        install=str(data["install"]).strip(),
        files=tuple(files),
        sources=tuple(data.get("sources") or ()),
        description=str(data.get("description", "")).strip(),
        origin=path,
    )
