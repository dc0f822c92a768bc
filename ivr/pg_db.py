"""PostgreSQL shared by the workers of a cluster: one psycopg 3 pool, the
versioned SQL migrations of a store applied at open, and the outage rule.
The call records (``session/records_pg``) and the caller history
(``history/pg_store``) keep their rows this way, as ``sqlite_db`` does for
the embedded stores.

Migrations: a package of ``NNNN_name.sql`` files, applied in order under an
advisory lock (two workers starting together apply each file once) and noted
in the store's own version table (two stores may share one database).

Outages: a write on the call's path must not cost a connection timeout each.
The first failure that looks like the server being gone marks the store down;
while down, every operation fails at once with the store's one-line error and
one background probe (at most every ``retry_after`` seconds) asks the pool for
a connection; when it gets one the store is up again."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from importlib import resources
from typing import Any, TypeVar

from ivr.dsn import mask_secrets, mask_url
from ivr.errors import IvrError
from ivr.log import get_logger

log = get_logger(__name__)
T = TypeVar("T")
ErrorType = Callable[[str, str], IvrError]


def first_line(e: BaseException) -> str:
    """An exception's first line, secrets masked, bounded: what a user is shown."""
    text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return mask_secrets(text)[:300]


def load_migrations(package: str, error: ErrorType) -> list[tuple[int, str, str]]:
    """``(version, name, sql)`` of every ``NNNN_name.sql`` in ``package``, in order."""
    out = []
    for f in resources.files(package).iterdir():
        name = f.name
        if name.endswith(".sql") and name[:4].isdigit():
            out.append((int(name[:4]), name[:-4], f.read_text(encoding="utf-8")))
    out.sort()
    versions = [v for v, _, _ in out]
    if len(set(versions)) != len(versions):
        raise error("two migrations share a version number", package.replace(".", "/"))
    return out


def apply_migrations(conn: Any, known: list[tuple[int, str, str]], *, table: str, lock_key: int,
                     error: ErrorType, what: str, where: str) -> list[int]:
    """Apply the ``known`` migrations ``conn``'s database lacks; returns the versions applied.
    A database newer than this ivr is refused (``error``), never written to."""
    applied: list[int] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key,))
        conn.execute(f"CREATE TABLE IF NOT EXISTS {table} (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                     "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())")
        done = {r[0] for r in conn.execute(f"SELECT version FROM {table}").fetchall()}
        newest = max((v for v, _, _ in known), default=0)
        if done and max(done) > newest:
            raise error(f"the {what} database is at schema {max(done)}, this ivr knows up to {newest}: "
                        "upgrade ivr", where)
        for version, name, sql in known:
            if version in done:
                continue
            conn.execute(sql.encode())  # no parameters: several statements in one go
            conn.execute(f"INSERT INTO {table} (version, name) VALUES (%s, %s)", (version, name))
            applied.append(version)
    return applied


class PgPooled:
    """A base for a PostgreSQL store class: it gets ``url`` (masked), ``applied``
    (migrations run at open), ``_run(what, fn)`` (``fn(conn)`` on a pooled
    autocommit connection, every failure as ``error``), ``up`` and ``close``."""

    def __init__(self, url: str, *, error: ErrorType, what: str, name: str, migrations: str, version_table: str,
                 lock_key: int, pool_size: int = 4, timeout: float = 2.0, retry_after: float = 1.0) -> None:
        """``what`` names the store in messages ("call records"); ``name`` its
        pool and probe thread; ``migrations`` the package of its SQL files."""
        self.url = mask_url(url)
        self._error, self._what, self._name = error, what, name
        try:
            import psycopg
            from psycopg_pool import ConnectionPool
        except ImportError:
            raise error("psycopg is not installed (pip install 'psycopg[binary]' psycopg_pool)", self.url) from None
        self.timeout = timeout
        self.retry_after = retry_after
        self._errors: tuple[type[Exception], ...] = (psycopg.OperationalError, psycopg.InterfaceError)
        self._down = False
        self._probing = False
        self._last_probe = 0.0
        self._state = threading.Lock()
        known = load_migrations(migrations, error)
        self._pool = ConnectionPool(url, min_size=1, max_size=max(1, pool_size), timeout=timeout, open=False,
                                    kwargs={"autocommit": True, "connect_timeout": max(2, round(timeout))},
                                    reconnect_timeout=365 * 86400.0, name=f"ivr-{name}")
        try:
            self._pool.open(wait=True, timeout=max(timeout, 5.0))
            with self._pool.connection() as conn:
                self.applied = apply_migrations(conn, known, table=version_table, lock_key=lock_key, error=error,
                                                what=what, where=self.url)
        except IvrError:
            self._pool.close()
            raise
        except Exception as e:  # PoolTimeout, a refused login, a bad URI: one line, secrets masked
            self._pool.close()
            raise error(f"cannot open {what}: {first_line(e)}", self.url) from None
        if self.applied:
            log.info("%s schema migrated to version %d", what, self.applied[-1], extra={"store": self.url})

    def _run(self, what: str, fn: Callable[[Any], T]) -> T:
        if self._down:
            self._maybe_probe()
            raise self._error(f"cannot {what}: PostgreSQL unavailable (retrying)", self.url)
        try:
            with self._pool.connection() as conn:
                return fn(conn)
        except Exception as e:
            if isinstance(e, self._errors) or type(e).__name__ == "PoolTimeout":
                with self._state:
                    self._down, self._last_probe = True, time.monotonic()
            raise self._error(f"cannot {what}: {first_line(e)}", self.url) from None

    def _maybe_probe(self) -> None:
        with self._state:
            if self._probing or time.monotonic() - self._last_probe < self.retry_after:
                return
            self._probing, self._last_probe = True, time.monotonic()
        threading.Thread(target=self._probe, name=f"ivr-{self._name}-probe", daemon=True).start()

    def _probe(self) -> None:
        try:
            self._pool.check()  # drop the pooled connections the outage broke
            with self._pool.connection(timeout=self.timeout) as conn:
                conn.execute("SELECT 1")
            with self._state:
                self._down = False
            log.warning("%s reachable again", self._what, extra={"store": self.url})
        except Exception:  # still down: the next operation after retry_after probes again
            pass
        finally:
            with self._state:
                self._probing = False

    @property
    def up(self) -> bool:
        return not self._down

    def close(self) -> None:
        self._pool.close()
