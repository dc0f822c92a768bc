"""Queue stores behind one interface: ``open_store(url)``.

``sqlite:///path/to/file.db`` (default, embedded) or ``redis://host:port/db``
(shared by several workers)."""
from __future__ import annotations

import os
from pathlib import Path

from ivr.dsn import mask_url
from ivr.handoff.errors import StoreError
from ivr.handoff.store.base import Store
from ivr.handoff.store.sqlite_store import SqliteStore


def store_error_types() -> tuple[type[Exception], ...]:
    """What a store raises when it is down or hung (not a bug, not a refused
    request): callers keep the call going and report an outage."""
    import sqlite3

    kinds: list[type[Exception]] = [StoreError, sqlite3.Error, OSError]  # OSError: ConnectionError, TimeoutError
    try:
        import redis

        kinds.append(redis.RedisError)
    except ImportError:  # the redis extra is optional
        pass
    return tuple(kinds)


def default_store_url() -> str:
    env = os.environ.get("IVR_HANDOFF_STORE")
    if env:
        return env
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "ivr"
    return f"sqlite:///{base / 'handoff.sqlite3'}"


def open_store(url: str | None = None, **options) -> Store:
    """Open the store a URL names. Options go to the store (SQLite:
    ``synchronous``; Redis: ``prefix``, ``timeout``)."""
    url = url or default_store_url()
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
        if not path:
            raise StoreError("sqlite URL needs a path: sqlite:///path/to/queue.db", mask_url(url))
        return SqliteStore(path, **options)
    if url.startswith(("redis://", "rediss://", "unix://")):
        try:
            from ivr.handoff.store.redis_store import RedisStore
        except ImportError:
            raise StoreError("the redis package is not installed (pip install 'ivr[redis]')", mask_url(url)) from None
        return RedisStore(url, **options)
    raise StoreError("unknown store URL; use sqlite:///path or redis://host:port/db", mask_url(url))


__all__ = ["Store", "SqliteStore", "open_store", "default_store_url", "store_error_types"]
