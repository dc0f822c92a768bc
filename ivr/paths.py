"""One place for ivr's directories.

- ``cache_home()``: models, prompt cache, state — ``$IVR_HOME``, else
  ``$XDG_CACHE_HOME/ivr``, else ``~/.cache/ivr``.
- ``shipped(name)``: what ships inside the package (``flows``, ``models``), so a
  plain ``pip install`` works from any directory.
- ``flows_dir(given)``: the flows a command runs: the one given, else ``./flows``
  when the working directory has one (a flow designer's checkout), else the
  shipped flows."""
from __future__ import annotations

import os
from pathlib import Path

_SHIPPED = Path(__file__).resolve().parent / "shipped"


def cache_home() -> Path:
    if os.environ.get("IVR_HOME"):
        return Path(os.environ["IVR_HOME"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "ivr"


def shipped(name: str) -> Path:
    return _SHIPPED / name


def flows_dir(given: str | Path | None = None) -> Path:
    if given is not None and str(given) != "":
        return Path(given)
    here = Path.cwd() / "flows"
    return here if here.is_dir() else shipped("flows")
