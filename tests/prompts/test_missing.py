"""`ivr say --missing nan-TW`: every prompt of the flows that has no recording
in that language, with its file and line."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np

from ivr.prompts.missing import missing_recordings

FLOW = textwrap.dedent("""\
    flow: main
    steps:
      - id: hello
        say:
          zh-TW: 您好
          nan-TW: {text: 你好, audio: rec/hello.wav}
      - id: ask
        collect: choice
        type: intent
        intents: [check_balance]
        prompt:
          zh-TW: 請說
          nan-TW: 請講
      - id: bye
        say:
          zh-TW: 再見
          nan-TW: 再會
""")


def _recording(flows: Path) -> None:
    from ivr.audio import write_wav

    (flows / "rec").mkdir()
    write_wav(flows / "rec" / "hello.wav", np.zeros(800, dtype=np.int16), 8000)


def test_lists_prompts_without_a_recording(tmp_path: Path) -> None:
    (tmp_path / "main.yaml").write_text(FLOW, encoding="utf-8")
    _recording(tmp_path)
    every = missing_recordings(tmp_path, "nan-TW")
    got = [m for m in every if "(generated" not in m.where]
    assert [(m.where, m.text) for m in got] == [("main/ask/prompt", "請講"), ("main/bye/say", "再會")]
    # what the dialog says itself in Taiwanese (ivr/dialog/policy.py): the menu choice read back
    assert [m.text for m in every if "(generated" in m.where] == ["你講的是查餘額，著請揤1，毋著請揤2。"]
    assert [m.line for m in got] == [13, 17]
    assert str(got[1]) == f"{tmp_path / 'main.yaml'}:17: main/bye/say: 再會"
    assert len(missing_recordings(tmp_path, "zh-TW")) == 3


def test_cli(tmp_path: Path) -> None:
    (tmp_path / "main.yaml").write_text(FLOW, encoding="utf-8")
    _recording(tmp_path)
    p = subprocess.run([sys.executable, "-m", "ivr", "say", "--missing", "nan-TW", "--flows", str(tmp_path)],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert len(p.stdout.splitlines()) == 3 and "3 nan-TW prompt(s) without a recording" in p.stderr  # + 1 read-back
