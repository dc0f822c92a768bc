from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CAMPAIGNS = ROOT / "campaigns"


@pytest.fixture
def campaign_dir(tmp_path):
    d = tmp_path / "campaigns"
    shutil.copytree(CAMPAIGNS, d)
    return d


@pytest.fixture(scope="session")
def real_nlu():
    from ivr.nlu import Nlu

    return Nlu.load()


@pytest.fixture(scope="session")
def flows():
    from ivr.dialog import load_flows

    return load_flows(ROOT / "flows")


@pytest.fixture
def bank(tmp_path):
    from ivr.backends.demo_bank import DemoBank

    return DemoBank(tmp_path / "bank.sqlite")


@pytest.fixture
def registry(bank):
    from ivr.backends import BackendRegistry

    return bank.register(BackendRegistry())
