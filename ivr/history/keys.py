"""Caller numbers in history: a keyed hash to find the same caller again, a
masked form for people. The number itself is never stored (PDPA: the least
personal data that does the job).

The key is HMAC-SHA256's: from ``$IVR_HISTORY_KEY`` (hex), else a random key
file beside the store, created once with mode 0600. Without the key a hash
cannot be tested against the ~10^8 Taiwanese mobile numbers."""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from ivr.errors import IvrError

KEY_ENV = "IVR_HISTORY_KEY"


class HistoryKeyError(IvrError):
    """The history key cannot be read or made."""


def normalize_number(number: str) -> str:
    """Digits only, +886 / 886 folded to the national 0 prefix."""
    digits = "".join(c for c in str(number or "") if c.isdigit())
    if digits.startswith("886") and len(digits) >= 11:
        digits = "0" + digits[3:]
    return digits


def mask_number(number: str) -> str:
    """``0912345678`` -> ``*******678`` (the last three digits tell calls apart)."""
    d = normalize_number(number)
    if not d:
        return ""
    keep = 3 if len(d) > 6 else 0
    return "*" * (len(d) - keep) + d[len(d) - keep:]


class NumberKeyer:
    """Turns a caller number into the keyed hash history is indexed by."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise HistoryKeyError("history key must be at least 16 bytes", KEY_ENV)
        self._key = key

    def __call__(self, number: str) -> str:
        d = normalize_number(number)
        if len(d) < 6:  # no number, or an extension: nothing to link calls by
            return ""
        return hmac.new(self._key, d.encode(), hashlib.sha256).hexdigest()[:32]

    @classmethod
    def for_store(cls, store_path: str | Path | None, *, shared: bool = False) -> NumberKeyer:
        """The key from the environment, else the key file beside the store
        (made on first use), else (an in-memory store) a key for this process.
        A ``shared`` store (PostgreSQL) needs the environment's key: a key per
        host would hash one caller differently on each worker, and a key kept
        in the same database would let whoever reads the hashes test numbers."""
        env = os.environ.get(KEY_ENV)
        if env:
            try:
                return cls(bytes.fromhex(env))
            except ValueError:
                raise HistoryKeyError("not hex", KEY_ENV) from None
        if shared:
            raise HistoryKeyError("a shared (PostgreSQL) caller history needs this variable: the same random hex "
                                  "key (32 bytes: openssl rand -hex 32) on every worker", KEY_ENV)
        if store_path is None or str(store_path) == ":memory:":
            return cls(secrets.token_bytes(32))
        path = Path(store_path).with_suffix(".key")
        try:
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as f:
                    f.write(secrets.token_hex(32))
            return cls(bytes.fromhex(path.read_text().strip()))
        except FileExistsError:  # another worker made it between our check and open
            return cls(bytes.fromhex(path.read_text().strip()))
        except (OSError, ValueError) as e:
            raise HistoryKeyError(f"cannot read or make the history key: {e}", str(path)) from None
