"""Every ``ivr`` subcommand on hostile input ends in one line on stderr and
exit 2: deep YAML nesting, NUL bytes, /dev/zero, paths outside the fixtures
tree, unreachable stores, a busy port. Never a traceback."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from ivr.cli import COMMANDS

DEEP = "flow: " + "[" * 100_000 + "]" * 100_000 + "\n"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("hostile")
    (d / "deep").mkdir()
    (d / "deep" / "main.yaml").write_text(DEEP)
    (d / "nul").mkdir()
    (d / "nul" / "main.yaml").write_bytes(b"flow: main\x00\nsteps: []\n")
    (d / "sc").mkdir()
    (d / "sc" / "passwd.yaml").write_text("name: pw\nturns:\n  - audio: ../../../../../../../etc/passwd\n")
    (d / "sc" / "zero.yaml").write_text("name: zero\nturns:\n  - audio: /dev/zero\n")
    (d / "sc" / "deep.yaml").write_text("name: deep\nturns: " + "[" * 50_000 + "]" * 50_000 + "\n")
    (d / "link.wav").symlink_to("/dev/zero")
    (d / "sc2").mkdir()
    (d / "sc2" / "link.yaml").write_text("name: link\nturns:\n  - audio: ../link.wav\n")
    (d / "trunc.wav").write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00")
    (d / "nul.yaml").write_bytes(b"prompts:\n  a: \x00\n")
    return d


def busy_port() -> tuple[socket.socket, int]:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    return s, s.getsockname()[1]


def cases(d: Path, port: int) -> list[list[str]]:
    deep, nul = str(d / "deep"), str(d / "nul")
    return [
        ["demo", "--flows", deep, "--out", str(d / "o.wav")],
        ["run", "--wav", "/dev/zero"],
        ["run", "--wav", str(d / "trunc.wav"), "--flows", deep],
        ["serve", "--audiosocket", f"127.0.0.1:{port}", "--queue", "none"],
        ["serve", "--websocket", "127.0.0.1:1x"],
        ["chat", "--flows", deep],
        ["chat", "--flows", nul],
        ["replay", "/dev/zero"],
        ["replay", str(d / "link.wav")],
        ["test", str(d / "sc" / "passwd.yaml")],
        ["test", str(d / "sc" / "zero.yaml")],
        ["test", str(d / "sc" / "deep.yaml")],
        ["test", str(d / "sc2")],
        ["test", str(d / "nul.yaml")],
        ["record", "--db", "/dev/zero", "CALL"],
        ["record", "--db", str(d / "trunc.wav"), "CALL"],
        ["validate", deep],
        ["validate", nul],
        ["validate", str(d / "nul" / "main.yaml")],
        ["graph", "main", "--flows", deep],
        ["nlu", "--data", "/dev/zero", "hello"],
        ["nlu", "--data", str(d / "nul.yaml"), "hello"],
        ["say", "--prewarm", "/dev/zero"],
        ["say", "--prewarm", str(d / "nul.yaml")],
        ["say", "你好", "--engine", "espeak", "-o", "/dev/full/x.wav"],
        ["models", "install", "pocketsphinx-zh", "--from", "/dev/zero"],
        ["models", "verify", "no-such-model"],
        ["agents", "list", "--store", "bogus://x"],
        ["agents", "list", "--store", "redis://:hunter2@127.0.0.1:1/0"],
        ["agents", "add", "a", "--name", "A", "--password-stdin", "--store", "sqlite:////dev/zero/q.db"],
        ["history", "export", "1", "--db", "/dev/zero/h.sqlite3"],
        ["history", "erase", "1", "--db", str(d / "trunc.wav")],
        ["campaign", "validate", str(d / "deep" / "main.yaml")],
        ["campaign", "run", "/dev/zero"],
        ["campaign", "start", str(d / "deep" / "main.yaml")],
        ["campaign", "pause", "c1", "--state", "/dev/zero/c.sqlite3"],
        ["campaign", "status", "--state", str(d / "trunc.wav")],
        ["campaign", "report", "c1", "--state", str(d / "trunc.wav")],
        ["dial", "not-a-sip-uri"],
        ["dial", "sip:0912345678@127.0.0.1:5060", "--local", "127.0.0.1:1x"],
        ["dial", "sip:0912345678@127.0.0.1:5060", "--flows", deep, "--local", "127.0.0.1:0"],
    ]


def test_every_subcommand_on_hostile_input_exits_2_with_one_line(hostile, tmp_path):
    sock, port = busy_port()
    env = {**os.environ, "IVR_HANDOFF_STORE": f"sqlite:///{tmp_path / 'q.db'}", "IVR_TTS_CACHE": str(tmp_path / "tts"),
           "IVR_MODELS_DIR": str(tmp_path / "models"), "COLUMNS": "200"}
    all_cases = cases(hostile, port)
    assert {c[0] for c in all_cases} == set(COMMANDS), "a subcommand without a hostile case"
    failures = []
    try:
        for argv in all_cases:
            p = subprocess.run([sys.executable, "-m", "ivr", *argv], input="correct horse battery\n",
                               capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env)
            err = p.stderr.strip().splitlines()
            ok = (p.returncode == 2 and "Traceback" not in p.stderr + p.stdout and len(err) == 1
                  and err[0].startswith(f"ivr {argv[0]}: error: ") and "hunter2" not in p.stderr)
            if not ok:
                failures.append(f"{' '.join(argv)} -> exit {p.returncode}: {p.stderr[-600:]!r}")
    finally:
        sock.close()
    assert not failures, "\n".join(failures)
