"""Shared test fixtures. ``SHARED`` is ../shared beside the project root (real
recordings and the pocketsphinx model); tests that need it skip with a printed
reason where it is absent."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("IVR_SHARED", ROOT.parent / "shared")).resolve()
ARTIFACTS = ROOT / "tests" / "artifacts"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"needs ../shared (real recordings, models); not found at {SHARED}")
    return SHARED


@pytest.fixture(scope="session")
def mandarin_real(shared_dir: Path) -> Path:
    d = shared_dir / "data" / "mandarin-real"
    if not d.is_dir():
        pytest.skip(f"needs {d}")
    return d


@pytest.fixture(scope="session")
def taiwanese_real(shared_dir: Path) -> Path:
    d = shared_dir / "data" / "taiwanese-real"
    if not d.is_dir():
        pytest.skip(f"needs {d}")
    return d


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(autouse=True)
def _restore_ivr_logging():
    """CLI tests call ``ivr.cli.main`` in-process, which configures the "ivr"
    logger for a terminal (own handler, no propagation). Put it back after each
    test so later tests' ``caplog`` still sees ivr's records."""
    import logging

    log = logging.getLogger("ivr")
    saved = (list(log.handlers), log.propagate, log.level)
    yield
    log.handlers[:], log.propagate, log.level = saved[0], saved[1], saved[2]


@pytest.fixture
def log_stream():
    """ivr's log output (warnings and up) captured as text, for tests of what and
    how much gets logged; logging goes back to stderr afterwards."""
    import io

    from ivr.log import setup_logging

    buf = io.StringIO()
    setup_logging("warning", stream=buf)
    yield buf
    setup_logging("warning")


@pytest.fixture(scope="session")
def pg_server():
    """One real PostgreSQL for the whole run (tests/pg_server.py), started on
    first use; each test takes a fresh database from it (``new_database``)."""
    from tests.pg_server import remove, start_postgres

    server = start_postgres()
    yield server
    remove(server)

