import pytest

from ivr.frames import Say
from ivr.prompts import PromptCatalogue, PromptError


def test_load_yaml_and_choose_variant(tmp_path):
    p = tmp_path / "prompts.yml"
    p.write_text("welcome:\n  zh-TW: {text: 您好，歡迎致電, audio: zh/welcome.wav}\n"
                 "  nan-TW: {audio: nan/welcome.wav}\n"
                 "bye:\n  zh-TW: 再見\n", encoding="utf-8")
    cat = PromptCatalogue.load(p)
    assert len(cat) == 2 and "bye" in cat
    assert cat["welcome"].say("nan-TW") == Say("welcome", "nan-TW", "", "nan/welcome.wav", True)
    # no nan-TW variant: the Mandarin text is borrowed
    assert cat["bye"].say("nan-TW", interruptible=False) == Say("bye", "nan-TW", "再見", None, False)
    assert sorted(cat.texts()) == ["再見", "您好，歡迎致電"]


def test_bad_catalogues_name_the_place(tmp_path):
    p = tmp_path / "bad.yml"
    p.write_text("welcome:\n  zh-TW: [unclosed\n", encoding="utf-8")
    with pytest.raises(PromptError) as e:
        PromptCatalogue.load(p)
    assert str(e.value).startswith(f"{p}:")
    with pytest.raises(PromptError, match="unknown language"):
        PromptCatalogue.from_dict({"x": {"en-US": "hi"}})
    with pytest.raises(PromptError, match="want text and/or audio"):
        PromptCatalogue.from_dict({"x": {"zh-TW": {"txt": "hi"}}})
    with pytest.raises(PromptError, match="unknown prompt"):
        PromptCatalogue.from_dict({})["nope"]
    with pytest.raises(PromptError, match="no zh-TW variant"):
        PromptCatalogue.from_dict({"x": {"nan-TW": "hi"}})["x"].say("zh-TW")
    with pytest.raises(PromptError, match="cannot read"):
        PromptCatalogue.load(tmp_path / "missing.yml")
