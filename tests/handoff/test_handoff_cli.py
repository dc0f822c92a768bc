"""``ivr agents`` end to end through the real CLI entry point."""
from __future__ import annotations

import io
import sys

import pytest

from ivr.cli import main


def _ivr(monkeypatch, capsys, *argv, stdin: str = ""):
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    monkeypatch.setenv("COLUMNS", "200")  # rich would cut table cells at 80
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_add_list_queues_remove(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    code, out, _ = _ivr(monkeypatch, capsys, "agents", "add", "lee", "--name", "Lee", "--tier", "T2", "--skills", "T2,T1",
                        "--languages", "zh-TW,nan-TW", "--password-stdin", "--store", url, stdin="sup3r secret\n")
    assert code == 0 and "skills T2,T1" in out
    code, out, _ = _ivr(monkeypatch, capsys, "agents", "list", "--store", url)
    assert code == 0 and "lee" in out and "T2,T1" in out and "zh-TW,nan-TW" in out and "sup3r" not in out
    code, out, _ = _ivr(monkeypatch, capsys, "agents", "queues", "--store", url)
    assert code == 0 and "Technical support" in out and "→ T1 after 240 s" in out
    code, out, _ = _ivr(monkeypatch, capsys, "agents", "remove", "lee", "--store", url)
    assert code == 0
    code, _, err = _ivr(monkeypatch, capsys, "agents", "remove", "lee", "--store", url)
    assert code == 2 and "no agent 'lee'" in err


@pytest.mark.parametrize("argv,msg", [
    (["agents", "add", "x", "--name", "X", "--tier", "T7", "--password-stdin"], "unknown tier"),
    (["agents", "add", "x", "--name", "X", "--password-stdin"], "at least 8"),
    (["agents", "list", "--store", "mysql://db"], "unknown store URL"),
    (["agents", "desktop", "--listen", "nowhere"], "HOST:PORT"),
])
def test_errors_are_one_line_exit_2(tmp_path, monkeypatch, capsys, argv, msg):
    if "--store" not in argv:
        argv = argv + ["--store", f"sqlite:///{tmp_path / 'e.db'}"]
    code, _, err = _ivr(monkeypatch, capsys, *argv, stdin="short\n")
    assert code == 2 and msg in err and len(err.strip().splitlines()) == 1
