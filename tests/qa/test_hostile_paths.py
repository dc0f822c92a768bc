"""Scenario files are untrusted: the audio they name must be a regular file
under the size cap inside the fixtures tree (or an allowed directory), and the
YAML itself is size- and depth-limited."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from ivr.audio import write_wav
from ivr.errors import IvrError
from ivr.qa import ScenarioError, load_scenario, load_scenarios
from ivr.qa.paths import AudioPolicy, ScenarioPathError


def scenario(d: Path, name: str, audio: str) -> Path:
    p = d / f"{name}.yaml"
    p.write_text(f"name: {name}\nturns:\n  - audio: {audio}\n")
    return p


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "fixtures"
    (root / "calls").mkdir(parents=True)
    (root / "audio").mkdir()
    write_wav(root / "audio" / "ok.wav", np.zeros(800, np.int16), 8000)
    return root


@pytest.mark.parametrize("audio", ["/dev/zero", "../../../../../../../../etc/passwd", "/etc/hostname"])
def test_outside_the_tree_is_refused_in_one_line(tree: Path, audio: str) -> None:
    scenario(tree / "calls", "bad", audio)
    with pytest.raises(ScenarioPathError) as e:
        load_scenarios([tree])
    msg = str(e.value)
    assert "outside the fixtures tree" in msg and msg.startswith(str(tree / "calls" / "bad.yaml") + ":3:")
    assert "\n" not in msg


def test_inside_the_tree_is_fine_and_symlinks_are_followed(tree: Path) -> None:
    scenario(tree / "calls", "good", "../audio/ok.wav")
    assert [s.name for s in load_scenarios([tree])] == ["good"]
    os.symlink("/dev/zero", tree / "audio" / "zero.wav")
    scenario(tree / "calls", "link", "../audio/zero.wav")
    with pytest.raises(ScenarioPathError, match="outside the fixtures tree"):
        load_scenarios([tree])


def test_special_and_huge_files_in_the_tree_are_refused(tree: Path) -> None:
    os.mkfifo(tree / "audio" / "fifo.wav")
    scenario(tree / "calls", "fifo", "../audio/fifo.wav")
    with pytest.raises(ScenarioPathError, match="not a regular file"):
        load_scenarios([tree])
    (tree / "calls" / "fifo.yaml").unlink()
    with open(tree / "audio" / "big.wav", "wb") as f:
        f.truncate(3 * 2**20)   # sparse: 3 MB on paper
    scenario(tree / "calls", "big", "../audio/big.wav")
    with pytest.raises(ScenarioPathError, match="over the 2 MB cap"):
        load_scenarios([tree], policy=AudioPolicy(max_bytes=2 * 2**20))


def test_a_file_argument_finds_its_tree_and_its_allow_list(tmp_path: Path, tree: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    write_wav(shared / "real.wav", np.zeros(800, np.int16), 8000)
    f = scenario(tree / "calls", "real", "../../shared/real.wav")
    with pytest.raises(ScenarioPathError):
        load_scenarios([f])
    assert load_scenarios([f], policy=AudioPolicy(allow=(shared,)))[0].name == "real"
    (tree / "_fixtures.yaml").write_text("allow_audio: [../shared]\n")
    assert load_scenarios([f])[0].name == "real"         # the tree root found above the file
    (tree / "_fixtures.yaml").write_text("allow_audio: " + "[" * 500 + "]" * 500 + "\n")
    with pytest.raises(IvrError, match="nested more than"):
        load_scenarios([f])


def test_scenario_yaml_limits(tmp_path: Path) -> None:
    (tmp_path / "deep.yaml").write_text("name: d\nturns: " + "[" * 20_000 + "]" * 20_000 + "\n")
    with pytest.raises(ScenarioError, match="nested more than 64 levels") as e:
        load_scenarios([tmp_path / "deep.yaml"])
    assert str(e.value).startswith(f"{tmp_path / 'deep.yaml'}:2:")
    (tmp_path / "nul.yaml").write_bytes(b"name: n\nturns: [{dtmf: '1'}]\n\x00")
    with pytest.raises(ScenarioError, match="NUL byte at line 3"):
        load_scenarios([tmp_path / "nul.yaml"])
    with pytest.raises(ScenarioError, match="not a regular file"):
        load_scenario("/dev/zero")


def test_shipped_fixtures_stay_loadable() -> None:
    root = Path(__file__).resolve().parents[2] / "audio_fixtures"
    assert len(load_scenarios([root])) >= 40
    one = next(root.glob("taiwanese/*.yaml"))
    assert load_scenarios([one])    # a single file finds audio_fixtures/_fixtures.yaml
