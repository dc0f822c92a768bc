from __future__ import annotations

import pytest

from tests.dialog.support import FLOWS


@pytest.fixture(autouse=True)
def _no_users_queue(tmp_path, monkeypatch):
    """``ivr history export|erase`` reach the embedded queue when it exists:
    never the one of whoever runs the tests."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("IVR_HANDOFF_STORE", raising=False)


@pytest.fixture(scope="session")
def real_nlu():
    from ivr.nlu import Nlu

    return Nlu.load()


@pytest.fixture(scope="session")
def flows():
    from ivr.dialog import load_flows

    return load_flows(FLOWS)


@pytest.fixture
def bank_path(tmp_path, monkeypatch):
    monkeypatch.delenv("IVR_HISTORY_DB", raising=False)
    monkeypatch.delenv("IVR_HISTORY_KEY", raising=False)
    return tmp_path / "bank.sqlite"


@pytest.fixture
def registry(bank_path):
    """The real registry the server builds: demo bank + customer_context (history beside the bank)."""
    from ivr.backends import default_registry

    return default_registry(FLOWS, bank_path)


@pytest.fixture
def history(bank_path):
    from ivr.history import CallerHistory, default_history_path

    h = CallerHistory.open(default_history_path(bank_path))
    yield h
    h.close()
