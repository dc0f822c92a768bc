"""Scenario files from disk, with errors that name file:line.

YAML is composed to nodes first so every value keeps the line it came from;
a pydantic error's location is then mapped back to that line."""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ivr.dialog.yaml_lines import LineDict, LineList, line_of, load_yaml_text, read_limited
from ivr.errors import IvrError
from ivr.qa.paths import AudioPolicy
from ivr.qa.scenario import Scenario

SUFFIXES = (".yaml", ".yml")


class ScenarioError(IvrError):
    """A scenario file that does not parse or validate."""


def _describe(err: Mapping[str, Any]) -> str:
    loc = ".".join(str(p) for p in err["loc"])
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        msg = f"unknown field {err['loc'][-1]!r}"
        loc = ".".join(str(p) for p in err["loc"][:-1])
    elif err["type"] == "missing":
        msg = f"missing required field {err['loc'][-1]!r}"
        loc = ".".join(str(p) for p in err["loc"][:-1])
    return f"{loc}: {msg}" if loc else msg


def parse_scenario(text: str, path: Path) -> Scenario:
    """One scenario from YAML text; ``path`` is used for messages and for
    resolving audio files next to it."""
    data = load_yaml_text(text, str(path), ScenarioError, ScenarioError)
    if data is None:
        raise ScenarioError("empty scenario file", f"{path}:1")
    if not isinstance(data, LineDict):
        raise ScenarioError("a scenario file is a mapping with name, turns and expect",
                            f"{path}:{getattr(data, 'line', 1) or 1}")
    data.setdefault("name", path.stem)
    turns = data.get("turns")
    if isinstance(turns, LineList):
        for i, t in enumerate(turns):
            if isinstance(t, dict):
                t["line"] = turns.item_lines[i]
    data["path"] = path
    data["line"] = 1
    try:
        return Scenario.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        more = f" (+{e.error_count() - 1} more)" if e.error_count() > 1 else ""
        loc = tuple(first["loc"])
        m = re.match(r"Value error, turn (\d+):", first["msg"])
        if not loc and m:  # a whole-scenario check that names a turn
            loc = ("turns", int(m.group(1)) - 1)
        raise ScenarioError(_describe(first) + more, f"{path}:{line_of(data, loc)}") from None


def load_scenario(path: str | Path, policy: AudioPolicy | None = None, root: Path | None = None) -> Scenario:
    """One scenario file; every file it names is checked against ``policy``
    (confined to its fixtures tree, audio a regular file under the cap)."""
    p = Path(path)
    if not p.exists():
        raise ScenarioError("no such scenario file", str(p))
    sc = parse_scenario(read_limited(p, ScenarioError), p)
    check_paths(sc, policy or AudioPolicy(), root)
    return sc


def check_paths(sc: Scenario, policy: AudioPolicy, root: Path | None = None) -> None:
    # ``requires`` paths are only tested for existence (a skip reason), and audio
    # that is absent is reported by the runner: only files that would be read are checked.
    roots = policy.roots_for(sc.path, root)
    for t in sc.turns:
        if t.audio is None:
            continue
        p = sc.resolve(t.audio)
        if p.exists() or p.is_symlink():
            policy.check_audio(p, roots, f"{sc.path}:{t.line or 1}")


def find_scenario_files(paths: Iterable[str | Path]) -> list[Path]:
    """Scenario files under the given files/directories, sorted, recursive;
    files named _*.yaml (generator inputs, shared settings) are not scenarios."""
    return [f for f, _ in _found(paths)]


def _found(paths: Iterable[str | Path]) -> list[tuple[Path, Path | None]]:
    """(scenario file, the directory it was found under or None for a file argument)."""
    out: list[tuple[Path, Path | None]] = []
    for raw in paths:
        if "\x00" in str(raw):
            raise ScenarioError("path contains a NUL byte", repr(str(raw))[:200])
        p = Path(raw)
        if p.is_dir():
            out += [(f, p) for f in sorted(p.rglob("*"))
                    if f.suffix in SUFFIXES and f.is_file() and not f.name.startswith((".", "_"))]
        elif p.is_file():
            out.append((p, None))
        else:
            raise ScenarioError("no such file or directory", str(p))
    return out


def load_scenarios(paths: Iterable[str | Path], pattern: str | None = None,
                   policy: AudioPolicy | None = None) -> list[Scenario]:
    """All scenarios under ``paths``; ``pattern`` keeps those whose name, file
    or tags contain it (like pytest -k, a plain substring). ``policy``: which
    files scenarios may read besides their fixtures tree (``ivr.qa.paths``)."""
    policy = policy or AudioPolicy()
    scenarios = [load_scenario(f, policy, root) for f, root in _found(paths)]
    names: dict[str, Path] = {}
    for s in scenarios:
        if s.name in names and names[s.name] != s.path:
            raise ScenarioError(f"scenario name {s.name!r} also used in {names[s.name]}", f"{s.path}:1")
        names[s.name] = s.path
    if pattern:
        pat = pattern.lower()
        scenarios = [s for s in scenarios
                     if pat in s.name.lower() or pat in str(s.path).lower() or any(pat in t.lower() for t in s.tags)]
    return scenarios
