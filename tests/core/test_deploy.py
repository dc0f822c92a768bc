"""deploy/: the systemd units, settings file, env examples and Prometheus config
are what the code accepts: every unit passes ``systemd-analyze verify``, every
ExecStart parses with ivr's own command line, and the settings they load
(file + env files) validate."""
from __future__ import annotations

import configparser
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ivr.cli import build_parser
from ivr.settings import load_settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))


def _env_file(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            out[key.strip()] = value.strip()
    return out


def _unit(path: Path) -> configparser.ConfigParser:
    cp = configparser.ConfigParser(strict=False, interpolation=None)
    cp.optionxform = str  # type: ignore[assignment,method-assign]
    cp.read_string(path.read_text(encoding="utf-8"))
    return cp


ENV = {**_env_file(DEPLOY / "cluster.env.example"), **_env_file(DEPLOY / "worker-1.env.example")}


def test_there_are_units_for_a_worker_and_the_desktop() -> None:
    assert [u.name for u in UNITS] == ["ivr-desktop.service", "ivr-worker@.service"]
    for u in UNITS:
        unit = _unit(u)
        assert "postgresql.service" in unit["Unit"]["After"] and "redis-server.service" in unit["Unit"]["After"]
        assert unit["Install"]["WantedBy"] == "ivr.target"


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_exec_start_parses_with_ivr_and_its_settings_validate(unit: Path) -> None:
    line = _unit(unit)["Service"]["ExecStart"]
    argv = shlex.split(re.sub(r"\$\{(\w+)\}", lambda m: ENV[m.group(1)], line))
    assert argv[0] == "/opt/ivr/venv/bin/ivr"
    args = build_parser().parse_args(argv[1:])
    assert args.func is not None
    if argv[1] == "serve":
        config = DEPLOY / "ivr.toml"
        assert args.config == Path("/etc/ivr/ivr.toml")
        s = load_settings(config, args.settings, env=ENV)
        assert s.stores.records.startswith("postgresql://") and s.stores.handoff.startswith("redis://")
        assert s.stores.history == ENV["IVR_STORES_HISTORY"]  # the env file's shared history overrides the file's
        assert s.worker_id == ENV["IVR_WORKER_ID"] and s.listen.audiosocket == "0.0.0.0:9092"
        assert s.listen.sip == "10.0.0.11:5060"
    else:
        assert args.store.startswith("redis://") and args.records.startswith("postgresql://")


def test_the_sample_settings_load_without_the_environment() -> None:
    s = load_settings(DEPLOY / "ivr.toml", env={})
    assert s.stores.records == "postgresql://ivr@127.0.0.1:5432/ivr" and s.stores.handoff.startswith("redis://")
    assert s.stores.history == "postgresql://ivr@127.0.0.1:5432/ivr"   # one caller history for every worker


def test_a_shared_history_needs_the_key_and_the_example_key_is_refused_until_edited(monkeypatch) -> None:
    """The env example names IVR_HISTORY_KEY; its placeholder is not a key, so a worker left with it refuses
    to start (one line naming the variable) rather than hashing numbers with a key every worker knows."""
    from ivr.errors import IvrError
    from ivr.history.keys import NumberKeyer

    assert ENV["IVR_STORES_HISTORY"].startswith("postgresql://") and "IVR_HISTORY_KEY" in ENV
    monkeypatch.setenv("IVR_HISTORY_KEY", ENV["IVR_HISTORY_KEY"])
    with pytest.raises(IvrError, match=r"IVR_HISTORY_KEY.*not hex"):
        NumberKeyer.for_store(None, shared=True)
    monkeypatch.setenv("IVR_HISTORY_KEY", "ab" * 32)
    assert NumberKeyer.for_store(None, shared=True) is not None


@pytest.mark.parametrize("unit", [*UNITS, DEPLOY / "systemd" / "ivr.target"], ids=lambda p: p.name)
def test_units_pass_systemd_analyze_verify(unit: Path, tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        pytest.skip("systemd-analyze not installed")
    ivr = Path(sys.executable).with_name("ivr")
    for u in [*UNITS, DEPLOY / "systemd" / "ivr.target"]:  # the target they name must be beside them
        (tmp_path / u.name).write_text(u.read_text(encoding="utf-8").replace("/opt/ivr/venv/bin/ivr", str(ivr)),
                                       encoding="utf-8")
    name = unit.name.replace("@.service", "@1.service")
    if name != unit.name:
        (tmp_path / name).write_text((tmp_path / unit.name).read_text(encoding="utf-8"), encoding="utf-8")
    p = subprocess.run([analyze, "verify", "--man=no", str(tmp_path / name)], capture_output=True, text=True,
                       timeout=60, cwd=tmp_path)
    problems = [ln for ln in (p.stdout + p.stderr).splitlines()
                if name.split("@")[0] in ln and "EnvironmentFile" not in ln]
    assert p.returncode == 0 and not problems, p.stdout + p.stderr


def test_prometheus_scrapes_the_workers_metrics() -> None:
    doc = yaml.safe_load((DEPLOY / "prometheus.yml").read_text(encoding="utf-8"))
    (job,) = doc["scrape_configs"]
    assert job["metrics_path"] == "/metrics" and job["static_configs"][0]["targets"]
    assert all(re.fullmatch(r"[\w.\-]+:\d+", t) for t in job["static_configs"][0]["targets"])


def test_kamailio_config_passes_kamailio_check(tmp_path: Path) -> None:
    """The front door's config as shipped (its defines given as the cluster test gives them)."""
    kamailio = shutil.which("kamailio")
    if not kamailio:
        pytest.skip("kamailio not installed (Debian package kamailio)")
    (tmp_path / "ivr.list").write_text("1 sip:127.0.0.1:5071 0 0 duid=w1;maxload=60\n", encoding="utf-8")
    p = subprocess.run([kamailio, "-c", "-f", str(DEPLOY / "kamailio" / "kamailio.cfg"),
                        "-A", "LISTEN=udp:127.0.0.1:5070", "-A", f'DISPATCHER_LIST="{tmp_path}/ivr.list"'],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and "config file ok" in p.stdout + p.stderr, p.stderr[-2000:]
