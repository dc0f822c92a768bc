from __future__ import annotations

from pathlib import Path

import pytest

from ivr.nlu import Nlu

ROOT = Path(__file__).resolve().parents[2]
TEST_SET = ROOT / "bench" / "data" / "nlu_test.yml"


@pytest.fixture(scope="session")
def nlu() -> Nlu:
    return Nlu.load()
