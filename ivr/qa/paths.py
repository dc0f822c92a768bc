"""Which files a scenario may make ``ivr test`` read.

A scenario names caller audio (``audio:``) and prerequisites (``requires:``).
Scenario files travel between teams, so they are treated as untrusted: a
path must resolve (symlinks followed) inside the fixtures tree or a directory
the operator allowed, and audio must be a regular file under a size cap, so
``/dev/zero`` or ``../../etc/passwd`` give a one-line error instead of
memory exhaustion or bytes of a system file in a report.

The fixtures tree is the nearest directory at or above the scenario holding
``_fixtures.yaml`` (else the directory given on the command line, else the
scenario's own directory). ``_fixtures.yaml`` may list more directories,
relative to itself, that its scenarios may read::

    allow_audio: [../../shared/data]   # real recordings kept outside the repository
"""
from __future__ import annotations

import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ivr.errors import IvrError

SETTINGS_FILE = "_fixtures.yaml"
MAX_AUDIO_BYTES = 100 * 1024 * 1024  # a 15-minute call at 48 kHz stereo is ~170 MB; at 16 kHz mono ~29 MB


class ScenarioPathError(IvrError):
    """A scenario names a file it may not read."""


@dataclass(frozen=True)
class AudioPolicy:
    """Directories scenarios may read from (besides their own fixtures tree) and the size cap."""

    allow: tuple[Path, ...] = ()
    max_bytes: int = MAX_AUDIO_BYTES
    _settings_cache: dict[Path, tuple[Path, ...]] = field(default_factory=dict, compare=False, repr=False)

    def roots_for(self, scenario_file: Path, given_root: Path | None) -> tuple[Path, ...]:
        tree, extra = self._fixtures_tree(scenario_file)
        if tree is None:
            tree = given_root if given_root is not None else scenario_file.parent
        return tuple(dict.fromkeys([_real(tree), *extra, *(_real(a) for a in self.allow)]))

    def _fixtures_tree(self, scenario_file: Path) -> tuple[Path | None, tuple[Path, ...]]:
        for d in _real(scenario_file.parent), *_real(scenario_file.parent).parents:
            settings = d / SETTINGS_FILE
            if settings.is_file():
                if d not in self._settings_cache:
                    self._settings_cache[d] = _read_settings(settings)
                return d, self._settings_cache[d]
        return None, ()

    def check_audio(self, path: Path, roots: Iterable[Path], where: str) -> None:
        """Raise ScenarioPathError unless ``path`` is a regular file under the cap inside ``roots``."""
        real = self._confined(path, roots, where)
        try:
            st = real.stat()
        except OSError as e:
            raise ScenarioPathError(f"cannot read audio {path} ({e.strerror or e})", where) from None
        if not stat.S_ISREG(st.st_mode):
            raise ScenarioPathError(f"audio {path} is not a regular file", where)
        if st.st_size > self.max_bytes:
            raise ScenarioPathError(f"audio {path} is {st.st_size / 2**20:.0f} MB, over the "
                                    f"{self.max_bytes / 2**20:.0f} MB cap (--max-audio-mb)", where)

    @staticmethod
    def _confined(path: Path, roots: Iterable[Path], where: str) -> Path:
        real = _real(path)
        roots = tuple(roots)
        if not any(real == r or r in real.parents for r in roots):
            raise ScenarioPathError(
                f"{path} is outside the fixtures tree {roots[0]} (allow a directory with --allow-audio "
                f"or allow_audio in {SETTINGS_FILE})", where)
        return real


def _real(p: Path) -> Path:
    try:
        return Path(p).resolve(strict=False)
    except (OSError, RuntimeError, ValueError) as e:  # symlink loops, NUL bytes
        raise ScenarioPathError(f"unusable path ({e})", str(p)[:200]) from None


def _read_settings(path: Path) -> tuple[Path, ...]:
    from ivr.dialog.yaml_lines import safe_load_limited

    data = safe_load_limited(path, ScenarioPathError)
    if data is None:
        return ()
    allow = data.get("allow_audio", []) if isinstance(data, dict) else None
    if not isinstance(allow, list) or not all(isinstance(a, str) for a in allow):
        raise ScenarioPathError("allow_audio must be a list of directories", f"{path}:1")
    return tuple(_real(path.parent / a) for a in allow)
