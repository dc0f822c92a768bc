from ivr.prompts.__main__ import main
from ivr.prompts.wavio import read_wav


def test_text_only_verbalizes(capsys):
    assert main(["1230", "--as", "amount", "--text-only"]) == 0
    assert main(["1230", "--as", "amount", "--language", "nan-TW", "--text-only"]) == 0
    assert main(["2026-11-25", "--as", "date-roc", "--text-only"]) == 0
    assert capsys.readouterr().out.split() == ["一千兩百三十元", "一千兩百三十箍", "民國一百一十五年十一月二十五日"]


def test_bad_value_is_one_line_exit_2(capsys):
    assert main(["12x", "--as", "amount", "--text-only"]) == 2
    assert capsys.readouterr().err.strip() == "amount: not an amount: '12x'"


def test_say_and_prewarm(tmp_path, capsys, espeak_tts):
    out = tmp_path / "x.wav"
    cache = str(tmp_path / "cache")
    assert main(["您好", "--engine", "espeak", "--cache-dir", cache, "-o", str(out), "--rate", "16000"]) == 0
    pcm, rate = read_wav(out)
    assert rate == 16000 and len(pcm) > 4000
    cat = tmp_path / "prompts.yml"
    cat.write_text("a:\n  zh-TW: 您好\nb:\n  zh-TW: 再見\n", encoding="utf-8")
    assert main(["--prewarm", str(cat), "--engine", "espeak", "--cache-dir", cache, "--rate", "16000"]) == 0
    assert "2 texts, 1 synthesized" in capsys.readouterr().out
