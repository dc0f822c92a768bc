from __future__ import annotations

from pathlib import Path

import pytest

from ivr.errors import IvrError
from ivr.nlu import DEFAULT_DATA, Nlu, NluDataError, load_examples

GOOD = """version: "3.1"
nlu:
- intent: check_balance
  examples: |
    - 查餘額
    - 我想查餘額
- intent: check_balance
  metadata:
    language: nan-TW
  examples: |
    - 我欲查餘額
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "nlu.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_data_loads_with_both_languages():
    examples = load_examples(DEFAULT_DATA)
    assert {e.language for e in examples} == {"zh-TW", "nan-TW"}
    assert len(examples) > 200


def test_good_file_lines_and_languages(tmp_path):
    examples = load_examples(write(tmp_path, GOOD))
    assert [(e.text, e.language, e.line) for e in examples] == [
        ("查餘額", "zh-TW", 5), ("我想查餘額", "zh-TW", 6), ("我欲查餘額", "nan-TW", 11)]


@pytest.mark.parametrize("text, line, message", [
    (GOOD.replace('version: "3.1"', 'version: "2.0"'), 1, 'version must be "3.1"'),
    (GOOD.replace("    - 我想查餘額", "    我想查餘額"), 6, "example line must start with '- '"),
    (GOOD.replace("- intent: check_balance\n  metadata", "- intent: Check Balance\n  metadata"), 7, "bad intent name"),
    (GOOD.replace("language: nan-TW", "language: en"), 9, "language must be one of zh-TW, nan-TW"),
    (GOOD.replace("  examples: |\n    - 查餘額", "  exemples: |\n    - 查餘額"), 4, "unsupported key 'exemples'"),
    (GOOD + "- intent: complaint\n  examples: |\n    - 查餘額\n", 14, "also under 'check_balance' (line 5)"),
    (GOOD + "- intent: complaint\n  examples: 我要客訴\n", 13, "literal block"),
    (GOOD.replace("nlu:\n- intent: check_balance\n  examples", "nlu:\n- intent: check_balance\n   examples"), 4, "invalid YAML"),
    ("version: \"3.1\"\nnlu:\n  - intent: [unclosed\n", 4, "invalid YAML"),
])
def test_bad_data_gives_one_line_file_line_error(tmp_path, text, line, message):
    path = write(tmp_path, text)
    with pytest.raises(NluDataError) as info:
        load_examples(path)
    err = str(info.value)
    assert "\n" not in err
    assert err.startswith(f"{path}:{line}: "), err
    assert message in err
    assert isinstance(info.value, IvrError)


def test_missing_file(tmp_path):
    with pytest.raises(NluDataError, match="training data file not found"):
        Nlu.load(tmp_path / "absent.yml")


def test_data_without_commands_is_refused(tmp_path):
    path = write(tmp_path, GOOD)
    with pytest.raises(IvrError, match="no examples for command 'agent'") as info:
        Nlu.load(path)
    assert str(info.value).startswith(f"{path}: ")
