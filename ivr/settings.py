"""One settings object for a running ivr: every session option (barge-in,
timeouts, hold, store outages) from a TOML file, flags and ``--set`` overrides,
validated with one-line errors that name the file and the key.

```toml
[session]
inter_digit_timeout_s = 2.5
hold_announce_every_s = 45
emergency_number = "0800000123"

[session.barge_in]
enabled = true
confirm_ms = 80
```
``--set session.barge_in.enabled=false`` overrides one key from the command line."""
from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ivr.errors import IvrError
from ivr.session.config import SessionConfig
from ivr.session.turns import BargeInPolicy

MAX_SETTINGS_BYTES = 1 << 20


class SettingsError(IvrError):
    """A settings file or override that cannot be used."""


_NESTED: dict[str, type] = {"barge_in": BargeInPolicy}


def _coerce(value: Any, default: Any, where: str) -> Any:
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "on", "off", "yes", "no", "1", "0"):
            return value.lower() in ("true", "on", "yes", "1")
        raise SettingsError(f"expected true or false, got {value!r}", where)
    if isinstance(default, (int, float)) and not isinstance(default, bool):
        try:
            number = float(value) if isinstance(default, float) else int(value)
        except (TypeError, ValueError):
            raise SettingsError(f"expected a number, got {value!r}", where) from None
        if number < 0:
            raise SettingsError(f"must not be negative, got {value!r}", where)
        return number
    if isinstance(default, str):
        if not isinstance(value, (str, int)):
            raise SettingsError(f"expected text, got {value!r}", where)
        return str(value)
    raise SettingsError(f"cannot be set ({type(default).__name__})", where)


def _build(cls: type, values: Mapping[str, Any], where: str) -> Any:
    base = cls()
    known = {f.name: f for f in dataclasses.fields(cls)}
    changes: dict[str, Any] = {}
    for key, value in values.items():
        if key not in known:
            raise SettingsError(f"unknown setting {key!r} (known: {', '.join(sorted(known))})", where)
        default = getattr(base, key)
        if key in _NESTED:
            if not isinstance(value, Mapping):
                raise SettingsError(f"{key} must be a table", where)
            changes[key] = _build(_NESTED[key], value, f"{where}.{key}")
        else:
            changes[key] = _coerce(value, default, f"{where}.{key}")
    return dataclasses.replace(base, **changes)


def read_settings(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    try:
        if not p.is_file():
            raise SettingsError("no such settings file", str(p))
        if p.stat().st_size > MAX_SETTINGS_BYTES:
            raise SettingsError(f"larger than {MAX_SETTINGS_BYTES} bytes", str(p))
        return tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise SettingsError(f"not valid TOML: {e}", str(p)) from None
    except (OSError, UnicodeDecodeError) as e:
        raise SettingsError(f"cannot read: {e}", str(p)) from None


def _apply_override(doc: dict[str, Any], item: str) -> None:
    key, sep, value = item.partition("=")
    if not sep or not key.strip():
        raise SettingsError(f"expected KEY=VALUE, got {item!r}", "--set")
    parts = key.strip().split(".")
    node = doc
    for part in parts[:-1]:
        nxt = node.setdefault(part, {})
        if not isinstance(nxt, dict):
            raise SettingsError(f"{part} is not a table", f"--set {key}")
        node = nxt
    node[parts[-1]] = value.strip()


def session_config(path: str | Path | None = None, overrides: Iterable[str] = (),
                   base: Mapping[str, Any] | None = None) -> SessionConfig:
    """The session settings: ``base`` (from flags), then the file's [session]
    table, then each ``--set`` override, in that order."""
    doc: dict[str, Any] = {"session": dict(base or {})}
    where = "settings"
    if path is not None:
        where = str(path)
        loaded = read_settings(path)
        unknown = set(loaded) - {"session"}
        if unknown:
            raise SettingsError(f"unknown table(s) {', '.join(sorted(unknown))} (known: session)", where)
        section = loaded.get("session", {})
        if not isinstance(section, dict):
            raise SettingsError("session must be a table", where)
        doc["session"].update(section)
    for item in overrides:
        _apply_override(doc, item)
    unknown = set(doc) - {"session"}
    if unknown:
        raise SettingsError(f"unknown table(s) {', '.join(sorted(unknown))} (known: session)", "--set")
    return _build(SessionConfig, doc["session"], f"{where}: session")
