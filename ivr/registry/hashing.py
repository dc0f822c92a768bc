"""Checksums for model folders.

A model's ``sha256`` in its manifest is a *tree hash*: the SHA-256 of the
``sha256sum``-style listing ``"<file sha256>  <relative path>\\n"`` of the
manifest's files, sorted by path. It pins every file the engine reads, and
extra files in the folder (READMEs, unused LMs) do not change it. Each file's
own size and sha256 are in the manifest too, so a failure names the file."""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from pathlib import Path

CHUNK = 1 << 20

Progress = Callable[[int], None]  # called with bytes just processed


def file_sha256(path: Path, progress: Progress | None = None) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
            if progress:
                progress(len(chunk))
    return h.hexdigest()


def tree_sha256(file_hashes: Mapping[str, str]) -> str:
    listing = "".join(f"{file_hashes[p]}  {p}\n" for p in sorted(file_hashes))
    return hashlib.sha256(listing.encode()).hexdigest()
