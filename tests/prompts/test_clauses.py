"""A sentence synthesized at call time plays from its first clause (issue 14):
clause cutting, and the renderer's parts (real espeak behind a call counter)."""
from __future__ import annotations

import numpy as np
import pytest

from ivr.frames import Say
from ivr.prompts import PromptRenderer
from ivr.prompts.clauses import clauses
from tests.prompts.conftest import CountingTts


class _ToneTts:
    """A tone as long as the text: these tests are about the renderer's parts,
    not the voice. (In one CI run real espeak-ng spun at 100 % CPU inside
    espeak_Synth here; the espeak engine keeps its own real tests.)"""

    name, voice, variant, loaded = "tone", "tone", "", True

    def synthesize(self, text: str) -> tuple[np.ndarray, int]:
        n = 2205 * max(1, len(text))
        return (3000 * np.sin(np.arange(n) * 0.05)).astype(np.int16), 22050


@pytest.fixture
def counting() -> CountingTts:
    return CountingTts(_ToneTts())


def test_clauses_keep_the_text_and_join_short_pieces():
    text = "王小明您好，您的帳戶餘額為五萬兩千三百四十元。"
    assert clauses(text) == ["王小明您好，", "您的帳戶餘額為五萬兩千三百四十元。"]
    assert "".join(clauses(text)) == text
    assert clauses("好，請稍候。") == ["好，請稍候。"]  # "好，" alone would sound clipped
    assert clauses("謝謝您的來電，再見。") == ["謝謝您的來電，再見。"]  # the short tail joins its clause
    assert clauses("沒有標點的一句話") == ["沒有標點的一句話"]
    assert clauses("") == []


def test_uncached_sentence_renders_clause_by_clause_on_demand(counting, tmp_path):
    r = PromptRenderer(tts=counting, cache_dir=tmp_path)
    say = Say("balance", "zh-TW", "王小明您好，您的帳戶餘額為五萬兩千三百四十元。")
    parts = r.render_parts(say, 8000)
    first = next(parts)
    assert counting.calls == ["王小明您好，"]  # the first audio does not wait for the amount
    rest = list(parts)
    assert counting.calls == ["王小明您好，", "您的帳戶餘額為五萬兩千三百四十元。"]
    assert len(rest) == 1 and first.dtype == np.int16 and first.size > 2000 and rest[0].size > first.size


def test_cached_or_recorded_prompt_stays_one_piece(counting, tmp_path):
    r = PromptRenderer(tts=counting, cache_dir=tmp_path)
    menu = Say("menu", "zh-TW", "查詢餘額請按1，重設密碼請按2。")
    r.prewarm([menu.text], sample_rates=(8000,))
    counting.calls.clear()
    parts = list(r.render_parts(menu, 8000))
    assert len(parts) == 1 and counting.calls == []  # the pre-warmed whole, from the cache
    assert np.array_equal(parts[0], r.render(menu, 8000))
