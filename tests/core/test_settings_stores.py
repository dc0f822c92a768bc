"""Cluster settings: store URLs, worker id and listeners from the file, the
IVR_ environment and --set (in that order), one-line errors naming where a
bad value came from, embedded defaults that need no server; ``ivr serve``
builds its stores and labels its metrics from them."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from ivr.settings import SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_need_no_server() -> None:
    s = load_settings(env={})
    assert s.stores.records == "sqlite:///var/calls.sqlite3" and s.stores.handoff == "" and s.stores.history == ""
    assert s.worker.id == "" and s.worker_id == socket.gethostname()
    assert s.listen.audiosocket == ""


def test_file_then_environment_then_set(tmp_path: Path) -> None:
    f = tmp_path / "ivr.toml"
    f.write_text('[worker]\nid = "w-file"\n[stores]\nrecords = "postgresql://ivr@db/ivr"\n'
                 'handoff = "redis://q:6379/0"\n[listen]\naudiosocket = "0.0.0.0:9092"\n'
                 '[session]\nmax_hold_s = 100\n', encoding="utf-8")
    env = {"IVR_WORKER_ID": "w-env", "IVR_SESSION_BARGE_IN_ENABLED": "false", "IVR_HOME": "/elsewhere",
           "IVR_HANDOFF_STORE": "sqlite:///x"}  # the last two are not settings: left alone
    s = load_settings(f, ["stores.handoff=none", "session.max_hold_s=200"], env=env)
    assert s.worker_id == "w-env" and s.stores.records == "postgresql://ivr@db/ivr" and s.stores.handoff == "none"
    assert s.session.barge_in.enabled is False and s.session.max_hold_s == 200.0
    assert s.listen.audiosocket == "0.0.0.0:9092"
    assert load_settings(f, ["worker.id=w-set"], env=env).worker_id == "w-set"


@pytest.mark.parametrize(("text", "env", "sets", "message", "where"), [
    ('[stores]\nrecords = "mysql://u:hunter2@h/db"\n', {}, [], "unknown store URL", "ivr.toml: stores"),
    ("", {"IVR_STORES_HANDOFF": "memcached://h"}, [], "unknown store URL", "$IVR_STORES_HANDOFF"),
    ("", {"IVR_STORES_COLOUR": "red"}, [], "unknown setting 'colour'", "$IVR_STORES_COLOUR"),
    ("", {"IVR_STORES_HISTORY": "mongodb://u:hunter2@h/x"}, [], "history: unknown store URL", "$IVR_STORES_HISTORY"),
    ("", {"IVR_SESSION_MAX_HOLD_S": "soon"}, [], "expected a number", "$IVR_SESSION_MAX_HOLD_S"),
    ("", {}, ["worker.id=two words"], "worker id", "--set worker.id"),
    ('[listen]\nmetrics = "9100"\n', {}, [], "expected HOST:PORT", "ivr.toml: listen"),
    ("[cluster]\n", {}, [], "unknown table(s) cluster", "ivr.toml"),
])
def test_bad_cluster_settings_are_one_line_errors(tmp_path: Path, text: str, env: dict, sets: list, message: str,
                                                  where: str) -> None:
    f = tmp_path / "ivr.toml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(SettingsError) as e:
        load_settings(f, sets, env=env)
    err = str(e.value)
    assert message in err and "\n" not in err and "hunter2" not in err
    assert where.replace("ivr.toml", str(f)) in err


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.read().decode()


def test_serve_builds_its_stores_and_metrics_from_the_settings(tmp_path: Path, pg_server) -> None:
    import psycopg

    from tests.redis_server import free_port, start_redis
    from tests.transports.sip.harness import free_port as free_udp_port

    redis = start_redis(tmp_path)
    redis_url = redis.url
    pg = pg_server.new_database("serve")
    metrics = free_port()
    sip = free_udp_port()
    f = tmp_path / "ivr.toml"
    f.write_text(f'[worker]\nid = "w-file"\n[stores]\nrecords = "{pg}"\nhandoff = "{redis_url}"\nhistory = "{pg}"\n'
                 f'[listen]\nwebsocket = "127.0.0.1:{free_port()}"\nmetrics = "127.0.0.1:{metrics}"\n'
                 f'sip = "127.0.0.1:{sip}"\n',
                 encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "IVR_WORKER_ID": "w-7", "IVR_HOME": str(tmp_path / "home"),
           "IVR_HISTORY_KEY": "ef" * 32}
    proc = subprocess.Popen([sys.executable, "-m", "ivr", "serve", "--config", str(f), "--engine", "fake",
                             "--no-prewarm"], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        lines = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.strip() == "ready":
                break
        assert lines and lines[-1].strip() == "ready", "".join(lines) + proc.stderr.read()
        assert f"sip: udp 127.0.0.1:{sip}\n" in lines  # the SIP listener named only in [listen]
        body = _get(f"http://127.0.0.1:{metrics}/metrics")
        assert 'ivr_calls_active{worker="w-7"}' in body  # the environment overrode the file's id
        with psycopg.connect(pg) as c:  # the records store named in the file migrated its database
            assert c.execute("SELECT COUNT(*) FROM schema_version").fetchone()[0] >= 2
            # and the caller history named beside it (its own tables, its own versions)
            assert c.execute("SELECT COUNT(*) FROM history_schema_version").fetchone()[0] >= 1
        assert not (tmp_path / "var").exists()  # no embedded SQLite records beside it
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        redis.stop()
