"""The understanding set (bench/understanding_set.py): big enough, split by
pattern so no test sentence shares a frame or core with dev, deterministic."""
from __future__ import annotations

import sys
from collections import Counter

import yaml

from .conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
from understanding_set import PATTERNS, build, deal, id_check_digit, render_digits


def test_size_and_every_kind_in_both_splits():
    sets = build()
    assert len(sets["dev"]) + len(sets["test"]) >= 1000
    for split in ("dev", "test"):
        kinds = Counter(i.kind for i in sets[split])
        assert set(kinds) == {"intent", "yes_no", "digits", "date", "taiwan_id", "amount", "commands"}, kinds
    ambiguous = [i for i in sets["test"] if i.kind == "yes_no" and i.expected is None]
    assert ambiguous, "hedged answers that must be rejected are part of the test"


def test_split_by_pattern_and_core():
    spec = yaml.safe_load(PATTERNS.read_text(encoding="utf-8"))["kinds"]
    sets = build()
    dev_texts = {i.text for i in sets["dev"]}
    assert not dev_texts & {i.text for i in sets["test"]}
    for kind in ("intent", "commands"):
        test_frames = set(deal(spec[kind]["frames"])["test"])
        assert {i.pattern for i in sets["test"] if i.kind == kind} <= test_frames
        assert not test_frames & set(deal(spec[kind]["frames"])["dev"])
        for value, cores in spec[kind]["cores"].items():
            dev_cores = deal(cores)["dev"]
            for item in sets["test"]:
                if item.kind == kind and str(item.expected) == str(None if value == "none" else value):
                    assert not any(core in item.text for core in dev_cores if len(core) > 3), item.text


def test_deterministic_and_values_valid():
    a, b = build(), build()
    assert [i.row() for i in a["test"]] == [i.row() for i in b["test"]]
    from ivr.nlu import id_checksum_ok
    assert all(id_checksum_ok(str(i.expected)) for i in a["test"] if i.kind == "taiwan_id")
    assert id_check_digit("A", "12345678") == "9"
    assert render_digits("0912345678", "grouped_comma") == "零九一二，三四五，六七八"
    assert render_digits("1204", "dong") == "么二洞四"
