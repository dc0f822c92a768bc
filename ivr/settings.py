"""One settings object for a running ivr: every session option (barge-in,
timeouts, hold, store outages), the stores, the listeners and the worker id,
from a TOML file, ``IVR_…`` environment variables, flags and ``--set``
overrides (in that order, the last winning), validated with one-line errors
that name the file (or variable) and the key.

```toml
[worker]
id = "ivr-a1"                                   # default: the host name

[stores]
records = "postgresql://ivr@db.internal/ivr"    # default sqlite:///var/calls.sqlite3
handoff = "redis://queue.internal:6379/0"       # default: the embedded SQLite queue; "none" = no queue
history = "postgresql://ivr@db.internal/ivr"    # default $IVR_HISTORY_DB, else history.sqlite3 beside the bank

[listen]
sip = "10.0.0.11:5060"                          # behind Kamailio (deploy/kamailio)
audiosocket = "0.0.0.0:9092"
metrics = "127.0.0.1:9100"

[session]
inter_digit_timeout_s = 2.5
hold_announce_every_s = 45
emergency_number = "0800000123"

[session.barge_in]
enabled = true
confirm_ms = 80
```
``--set session.barge_in.enabled=false`` overrides one key from the command
line; ``IVR_SESSION_BARGE_IN_ENABLED=false``, ``IVR_STORES_RECORDS=…``,
``IVR_WORKER_ID=…`` from the environment (``IVR_<TABLE>_<KEY>``). The defaults
need no server: one box runs with SQLite and no Redis."""
from __future__ import annotations

import dataclasses
import os
import re
import socket
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ivr.dsn import mask_url
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


@dataclass(frozen=True)
class StoreSettings:
    """Where calls and queues are kept: ``records`` is ``sqlite:///path`` (a bare path
    works too) or ``postgresql://…``; ``handoff`` is ``sqlite:///path``,
    ``redis://…`` or ``none``, empty for the embedded default; ``history`` (caller
    history) is ``sqlite:///path``, a path or ``postgresql://…`` (shared by the
    workers; needs ``$IVR_HISTORY_KEY``), empty for the default."""

    records: str = "sqlite:///var/calls.sqlite3"
    handoff: str = ""
    history: str = ""


@dataclass(frozen=True)
class WorkerSettings:
    """``id`` names this worker in call records and metrics (default: the host name)."""

    id: str = ""


@dataclass(frozen=True)
class ListenSettings:
    """Listeners as ``HOST:PORT`` (empty: not started); the command line's flags win."""

    sip: str = ""
    audiosocket: str = ""
    websocket: str = ""
    metrics: str = ""
    desktop: str = ""


@dataclass(frozen=True)
class Settings:
    session: SessionConfig = field(default_factory=SessionConfig)
    stores: StoreSettings = field(default_factory=StoreSettings)
    worker: WorkerSettings = field(default_factory=WorkerSettings)
    listen: ListenSettings = field(default_factory=ListenSettings)

    @property
    def worker_id(self) -> str:
        return self.worker.id or socket.gethostname()


_TABLES: dict[str, type] = {"session": SessionConfig, "stores": StoreSettings, "worker": WorkerSettings,
                            "listen": ListenSettings}
_KNOWN = ", ".join(sorted(_TABLES))
_WORKER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")
_HOSTPORT = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.\-]+):\d{1,5}")
RECORDS_SCHEMES = ("sqlite:///", "postgresql://", "postgres://")
HANDOFF_SCHEMES = ("sqlite:///", "redis://", "rediss://", "unix://")


def _env_overrides(env: Mapping[str, str]) -> list[tuple[str, str]]:
    """``IVR_<TABLE>_<KEY>=value`` as ``(table.key, value)``; other IVR_ variables
    (IVR_HOME, IVR_HANDOFF_STORE…) are not settings and are left alone."""
    out = []
    for name in sorted(env):
        rest = name[4:].lower() if name.startswith("IVR_") else ""
        table = next((t for t in _TABLES if rest.startswith(t + "_")), None)
        if table is None:
            continue
        key = rest[len(table) + 1:]
        cls = _TABLES[table]
        fields = {f.name for f in dataclasses.fields(cls)}
        path = [table, key]
        for nested, sub in _NESTED.items():
            if cls is SessionConfig and key.startswith(nested + "_") and key not in fields:
                path = [table, nested, key[len(nested) + 1:]]
                if path[2] not in {f.name for f in dataclasses.fields(sub)}:
                    raise SettingsError(f"unknown setting '{nested}.{path[2]}'", f"${name}")
                break
        else:
            if key not in fields:
                raise SettingsError(f"unknown setting {key!r} (known: {', '.join(sorted(fields))})", f"${name}")
        out.append((".".join(path), env[name]))
    return out


def _check(settings: Settings, where: Mapping[str, str]) -> None:
    """URLs, worker id and addresses: refused in one line naming where they came from."""
    rec, hand = settings.stores.records, settings.stores.handoff
    if not rec or ("://" in rec and not rec.startswith(RECORDS_SCHEMES)) or rec == "sqlite:///":
        raise SettingsError(f"records: unknown store URL {mask_url(rec)!r} (use sqlite:///path or "
                            "postgresql://user@host/db)", where.get("stores.records", "settings"))
    if hand and hand != "none" and (not hand.startswith(HANDOFF_SCHEMES) or hand == "sqlite:///"):
        raise SettingsError(f"handoff: unknown store URL {mask_url(hand)!r} (use sqlite:///path, redis://host:port/db "
                            "or none)", where.get("stores.handoff", "settings"))
    hist = settings.stores.history
    if hist and (("://" in hist and not hist.startswith(RECORDS_SCHEMES)) or hist == "sqlite:///"):
        raise SettingsError(f"history: unknown store URL {mask_url(hist)!r} (use sqlite:///path or "
                            "postgresql://user@host/db)", where.get("stores.history", "settings"))
    wid = settings.worker.id
    if wid and not _WORKER_ID.fullmatch(wid):
        raise SettingsError(f"worker id {wid!r}: 1-64 letters, digits, _ . - (starting with a letter or digit)",
                            where.get("worker.id", "settings"))
    for f in dataclasses.fields(ListenSettings):
        value = getattr(settings.listen, f.name)
        if value and not (_HOSTPORT.fullmatch(value) and int(value.rpartition(":")[2]) <= 65535):
            raise SettingsError(f"{f.name}: expected HOST:PORT, got {value!r}", where.get(f"listen.{f.name}",
                                                                                          "settings"))


def load_settings(path: str | Path | None = None, overrides: Iterable[str] = (),
                  base: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Every setting: ``base`` session values (from flags), then the file,
    then ``IVR_…`` variables (``env``, default the process environment), then
    each ``--set`` override, in that order."""
    doc: dict[str, Any] = {t: {} for t in _TABLES}
    doc["session"].update(base or {})
    where = "settings"
    origin: dict[str, str] = {}
    if path is not None:
        where = str(path)
        loaded = read_settings(path)
        unknown = set(loaded) - set(_TABLES)
        if unknown:
            raise SettingsError(f"unknown table(s) {', '.join(sorted(unknown))} (known: {_KNOWN})", where)
        for table, section in loaded.items():
            if not isinstance(section, dict):
                raise SettingsError(f"{table} must be a table", where)
            _merge(doc[table], section)
            origin.update({f"{table}.{k}": f"{where}: {table}" for k in section})
    for key, value in _env_overrides(os.environ if env is None else env):
        name = "$IVR_" + key.replace(".", "_").upper()
        table, *rest = key.split(".")
        single: dict[str, Any] = {rest[-1]: value}
        for part in reversed(rest[:-1]):
            single = {part: single}
        try:
            _build(_TABLES[table], single, name)
        except SettingsError as e:  # a bad value names its variable
            raise SettingsError(e.message, name) from None
        _apply_override(doc, f"{key}={value}")
        origin[".".join(key.split(".")[:2])] = name
    for item in overrides:
        _apply_override(doc, item)
        origin[".".join(item.partition("=")[0].strip().split(".")[:2])] = f"--set {item.partition('=')[0].strip()}"
    unknown = set(doc) - set(_TABLES)
    if unknown:
        raise SettingsError(f"unknown table(s) {', '.join(sorted(unknown))} (known: {_KNOWN})", "--set")
    built = {t: _build(cls, doc[t], f"{where}: {t}") for t, cls in _TABLES.items()}
    settings = Settings(**built)
    _check(settings, origin)
    return settings


def _merge(into: dict[str, Any], section: Mapping[str, Any]) -> None:
    for k, v in section.items():
        if isinstance(v, dict) and isinstance(into.get(k), dict):
            _merge(into[k], v)
        else:
            into[k] = v


def session_config(path: str | Path | None = None, overrides: Iterable[str] = (),
                   base: Mapping[str, Any] | None = None) -> SessionConfig:
    """The session settings alone (see ``load_settings``)."""
    return load_settings(path, overrides, base).session
