from __future__ import annotations

import shutil

import pytest

from .support import FLOWS


@pytest.fixture(scope="session")
def real_nlu():
    try:
        from ivr.nlu import Nlu
    except ImportError as e:
        pytest.skip(f"needs ivr.nlu (the NLU room's package): {e}")
    return Nlu.load()


@pytest.fixture
def fake_nlu():
    from .fake_nlu import FakeNlu

    return FakeNlu()


@pytest.fixture(scope="session")
def flows():
    from ivr.dialog import load_flows

    return load_flows(FLOWS)


@pytest.fixture
def bank(tmp_path):
    from ivr.backends.demo_bank import DemoBank

    return DemoBank(tmp_path / "bank.sqlite")


@pytest.fixture
def registry(bank):
    from ivr.backends import BackendRegistry

    return bank.register(BackendRegistry())


@pytest.fixture
def flows_copy(tmp_path):
    d = tmp_path / "flows"
    shutil.copytree(FLOWS, d)
    return d
