"""Real recogniser-style sentences (the Mandarin reference transcripts in
../shared, Simplified characters) are not banking requests: no intent, no command."""
from __future__ import annotations


def test_real_mandarin_sentences_are_no_match(nlu, mandarin_real):
    rows = [line.split("\t", 1)[1].strip()
            for line in (mandarin_real / "transcripts.tsv").read_text(encoding="utf-8").splitlines() if "\t" in line]
    assert rows
    menu = ["check_balance", "reset_password", "report_card_loss", "technical_support", "complaint", "talk_to_agent"]
    for text in rows:
        assert nlu.classify(text, "zh-TW", menu).intent is None, text
        assert nlu.commands(text, "zh-TW") is None, text
        assert "们" not in nlu.normalize(text)   # converted to Traditional
