"""A real PostgreSQL of the tests' own on loopback: ``initdb`` into a fresh
temporary directory, ``pg_ctl start`` on a free 127.0.0.1 port (socket in the
data directory), waited for (bounded), one database per test, stopped at the
end. Run as the ``postgres`` user when the tests run as root (initdb refuses
root). Skipped with the reason where the Debian package is missing."""
from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.redis_server import free_port

PG_BIN_DIRS = ("/usr/lib/postgresql/15/bin", "/usr/local/bin", "/usr/bin")


def _tool(name: str) -> str | None:
    for d in PG_BIN_DIRS:
        p = Path(d) / name
        if p.is_file() and os.access(p, os.X_OK):
            return str(p)
    return shutil.which(name)


@dataclass
class PgServer:
    data: Path
    port: int
    user: str
    run_as: list[str]
    pg_ctl: str
    durable: bool = False  # fsync on (benchmarks); tests kill workers, not the server, and run without it
    _names: itertools.count = field(default_factory=lambda: itertools.count(1))

    def url(self, db: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{db}"

    def new_database(self, prefix: str = "t") -> str:
        """A fresh empty database; returns its URL."""
        import psycopg

        name = f"{prefix}{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True, connect_timeout=5) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def ctl(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self.run_as, self.pg_ctl, "-D", str(self.data), "-w", "-t", "20", *args],
                              capture_output=True, text=True, timeout=timeout)

    def stop(self, mode: str = "fast") -> None:
        self.ctl("stop", "-m", mode)

    def start(self) -> None:
        speed = "" if self.durable else "-c fsync=off -c full_page_writes=off "
        p = self.ctl("start", "-l", str(self.data / "server.log"), "-o",
                     f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 {speed}-c max_connections=200")
        if p.returncode != 0:
            log = (self.data / "server.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"pg_ctl start failed: {p.stderr.strip()} {log}")


def start_postgres(*, durable: bool = False) -> PgServer:
    initdb, pg_ctl = _tool("initdb"), _tool("pg_ctl")
    if not (initdb and pg_ctl):
        pytest.skip("PostgreSQL not installed (Debian package postgresql: initdb, pg_ctl)")
    try:
        import psycopg
    except ImportError:
        pytest.skip("psycopg not installed (pip install 'psycopg[binary]' psycopg_pool)")
    data = Path(tempfile.mkdtemp(prefix="ivr-pg-")) / "data"
    run_as: list[str] = []
    user = os.environ.get("USER") or "postgres"
    if os.geteuid() == 0:  # initdb and postgres refuse to run as root
        import pwd

        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user to run PostgreSQL as")
        os.chown(data.parent, pw.pw_uid, pw.pw_gid)
        run_as, user = ["runuser", "-u", "postgres", "--"], "postgres"
    p = subprocess.run([*run_as, initdb, "-D", str(data), "-A", "trust", "-U", user, "-E", "UTF8",
                        "--locale=C.UTF-8", "--no-sync"], capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        pytest.fail(f"initdb failed: {p.stderr.strip()[-500:]}")
    server = PgServer(data, free_port(), user, run_as, pg_ctl, durable)
    server.start()
    import psycopg

    for _ in range(100):
        try:
            psycopg.connect(server.url(), connect_timeout=2).close()
            return server
        except psycopg.OperationalError:
            time.sleep(0.1)
    server.stop("immediate")
    pytest.fail("PostgreSQL did not accept connections within 10 s")


def remove(server: PgServer) -> None:
    server.stop("immediate")
    shutil.rmtree(server.data.parent, ignore_errors=True)
