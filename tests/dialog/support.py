"""Paths and action helpers shared by the dialog tests."""
from __future__ import annotations

from pathlib import Path

from ivr.frames import CallBackend, Hangup, Listen, Say, Transfer

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
FLOWS = ROOT / "flows"


def says(actions) -> list[str]:
    return [a.text for a in actions if isinstance(a, Say)]


def said(actions, fragment: str) -> bool:
    return any(fragment in t for t in says(actions))


def listen(actions) -> Listen | None:
    found = [a for a in actions if isinstance(a, Listen)]
    return found[-1] if found else None


def transfer(actions) -> Transfer | None:
    found = [a for a in actions if isinstance(a, Transfer)]
    return found[-1] if found else None


def hangup(actions) -> Hangup | None:
    found = [a for a in actions if isinstance(a, Hangup)]
    return found[-1] if found else None


def backends(actions) -> list[str]:
    return [a.name for a in actions if isinstance(a, CallBackend)]
