"""One SQLite file shared by the threads of one process: a single connection
behind a lock, WAL so other processes may read and write the same file, and
every failure as the caller's one-line ``IvrError``. The caller history and the
campaign state both keep their rows this way."""
from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any


class LockedSqlite:
    """A base for a store class: it gets ``path``, ``_run`` (one statement under
    the lock, all rows back) and ``close``; ``_lock``/``_db`` for a transaction."""

    def __init__(self, path: str | Path, schema: str, error: type[Exception], what: str) -> None:
        """``error(message, where)`` is raised for any failure; ``what`` names the
        store in its messages ("caller history")."""
        self.path = str(path)
        self._error, self._what = error, what
        self._lock = threading.Lock()
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=5)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(schema)
        except (sqlite3.Error, OSError) as e:
            raise error(f"cannot open {what}: {e}", self.path) from None

    def _run(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        try:
            with self._lock:
                return self._db.execute(sql, args).fetchall()
        except sqlite3.Error as e:
            raise self._error(f"{self._what}: {e}", self.path) from None

    def close(self) -> None:
        with self._lock:
            self._db.close()
