"""A small demo bank on SQLite, so the shipped flows run end to end with no
service to start: accounts, hashed PINs, identity checks, balances, one-time
codes for PIN reset (written to an ``sms_outbox`` table) and card-loss reports.

Seeded on first use. The customers are invented; their Taiwan IDs carry valid
checksums so the same validation applies as for real callers."""
from __future__ import annotations

import datetime as dt
import os
import secrets
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ivr.backends.registry import BackendRegistry
from ivr.dialog.extract import ID_LETTER_CODES, taiwan_id_valid

# PINs are short; argon2 still makes a stolen table slow to brute-force. Low
# cost parameters keep a verify well under 10 ms on the 2-core CI machine.
_HASHER = PasswordHasher(time_cost=2, memory_cost=4096, parallelism=1)
HIGH_VALUE_BALANCE = 1_000_000
CODE_TTL_SECONDS = 300


def make_taiwan_id(letter: str, body8: str) -> str:
    """A Taiwan ID with a valid check digit: letter + 8 digits + check."""
    code = ID_LETTER_CODES[letter]
    digits = [code // 10, code % 10] + [int(c) for c in body8]
    weights = [1, 9, 8, 7, 6, 5, 4, 3, 2, 1]
    check = (10 - sum(d * w for d, w in zip(digits, weights, strict=True)) % 10) % 10
    value = f"{letter}{body8}{check}"
    assert taiwan_id_valid(value)
    return value


# (name, id, pin, phone, birth date, balance, card last 4)
SEED_CUSTOMERS = [
    ("王小明", make_taiwan_id("A", "12345678"), "1234", "0912345678", "1985-03-15", 52_340, "4321"),
    ("陳美玲", make_taiwan_id("B", "22345678"), "5678", "0922333444", "1990-07-01", 2_350_000, "8765"),
    ("林阿土", make_taiwan_id("F", "13579246"), "2468", "0933555777", "1958-11-20", 8_800, "1357"),
]

SCHEMA = """
CREATE TABLE IF NOT EXISTS customers (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL, taiwan_id TEXT UNIQUE NOT NULL, pin_hash TEXT NOT NULL,
  phone TEXT NOT NULL, birth_date TEXT NOT NULL, balance INTEGER NOT NULL, card_last4 TEXT NOT NULL,
  card_status TEXT NOT NULL DEFAULT 'active');
CREATE TABLE IF NOT EXISTS sms_outbox (
  id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, phone TEXT NOT NULL, code TEXT NOT NULL,
  purpose TEXT NOT NULL, created REAL NOT NULL, used INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS card_reports (
  id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, card_last4 TEXT NOT NULL, created TEXT NOT NULL);
"""


def default_bank_path() -> Path:
    env = os.environ.get("IVR_DEMO_BANK")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "ivr" / "demo_bank.sqlite"


class DemoBank:
    def __init__(self, path: str | Path | None = None, now: Any = None) -> None:
        self.path = Path(path) if path else default_bank_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._now = now or (lambda: dt.datetime.now().timestamp())
        with closing(self._db()) as db, db:
            db.executescript(SCHEMA)
            if not db.execute("SELECT 1 FROM customers LIMIT 1").fetchone():
                for name, tid, pin, phone, birth, bal, card in SEED_CUSTOMERS:
                    db.execute("INSERT INTO customers"
                               " (name, taiwan_id, pin_hash, phone, birth_date, balance, card_last4)"
                               " VALUES (?,?,?,?,?,?,?)", (name, tid, _HASHER.hash(pin), phone, birth, bal, card))

    def _db(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=5)
        db.row_factory = sqlite3.Row
        return db

    def _row(self, sql: str, *args: Any) -> sqlite3.Row | None:
        with closing(self._db()) as db:
            return db.execute(sql, args).fetchone()

    @staticmethod
    def _who(row: sqlite3.Row) -> dict[str, Any]:
        # the balance comes along so a handoff can rank high-value customers first
        return {"customer_id": row["id"], "customer_name": row["name"], "balance": row["balance"]}

    # ------------------------------------------------------------ actions
    def verify_id_pin(self, id_number: str, pin: str) -> dict[str, Any]:
        row = self._row("SELECT * FROM customers WHERE taiwan_id = ?", str(id_number or "").upper())
        if row is None:
            return {"ok": False, "error": "no_such_customer"}
        try:
            _HASHER.verify(row["pin_hash"], str(pin))
        except (VerificationError, InvalidHashError):
            return {"ok": False, "error": "wrong_pin"}
        return self._who(row)

    def verify_phone_birth(self, caller: str, birth_date: str) -> dict[str, Any]:
        phone = "".join(c for c in str(caller or "") if c.isdigit())
        if phone.startswith("886"):
            phone = "0" + phone[3:]
        row = self._row("SELECT * FROM customers WHERE phone = ?", phone)
        if row is None:
            return {"ok": False, "error": "unknown_number"}
        if str(birth_date) != row["birth_date"]:
            return {"ok": False, "error": "wrong_birth_date"}
        return self._who(row)

    def customer_by_id(self, id_number: str) -> dict[str, Any]:
        row = self._row("SELECT * FROM customers WHERE taiwan_id = ?", str(id_number or "").upper())
        return self._who(row) if row else {"ok": False, "error": "no_such_customer"}

    def get_balance(self, customer_id: int) -> dict[str, Any]:
        row = self._row("SELECT * FROM customers WHERE id = ?", customer_id)
        if row is None:
            return {"ok": False, "error": "no_such_customer"}
        return {"balance": row["balance"], "high_value": row["balance"] >= HIGH_VALUE_BALANCE}

    def send_reset_code(self, customer_id: int) -> dict[str, Any]:
        row = self._row("SELECT * FROM customers WHERE id = ?", customer_id)
        if row is None:
            return {"ok": False, "error": "no_such_customer"}
        code = f"{secrets.randbelow(10**6):06d}"
        with closing(self._db()) as db, db:
            db.execute("INSERT INTO sms_outbox (customer_id, phone, code, purpose, created) VALUES (?,?,?,?,?)",
                       (customer_id, row["phone"], code, "pin_reset", self._now()))
        return {"phone_last3": row["phone"][-3:]}

    def check_reset_code(self, customer_id: int, code: str) -> dict[str, Any]:
        with closing(self._db()) as db, db:
            row = db.execute("SELECT * FROM sms_outbox WHERE customer_id = ? AND purpose = 'pin_reset' AND used = 0"
                             " ORDER BY id DESC LIMIT 1", (customer_id,)).fetchone()
            if row is None or self._now() - row["created"] > CODE_TTL_SECONDS:
                return {"ok": False, "error": "no_valid_code"}
            if not secrets.compare_digest(row["code"], str(code)):
                return {"ok": False, "error": "wrong_code"}
            db.execute("UPDATE sms_outbox SET used = 1 WHERE id = ?", (row["id"],))
        return {"code_ok": True}

    def set_pin(self, customer_id: int, pin: str) -> dict[str, Any]:
        pin = str(pin)
        if not (pin.isdigit() and len(pin) == 4) or len(set(pin)) == 1:
            return {"ok": False, "error": "weak_pin"}
        with closing(self._db()) as db, db:
            n = db.execute("UPDATE customers SET pin_hash = ? WHERE id = ?", (_HASHER.hash(pin), customer_id)).rowcount
        return {"pin_set": True} if n else {"ok": False, "error": "no_such_customer"}

    def report_card_loss(self, customer_id: int) -> dict[str, Any]:
        row = self._row("SELECT * FROM customers WHERE id = ?", customer_id)
        if row is None:
            return {"ok": False, "error": "no_such_customer"}
        with closing(self._db()) as db, db:
            db.execute("UPDATE customers SET card_status = 'blocked' WHERE id = ?", (customer_id,))
            cur = db.execute("INSERT INTO card_reports (customer_id, card_last4, created) VALUES (?,?,?)",
                             (customer_id, row["card_last4"], dt.datetime.now().isoformat(timespec="seconds")))
            case = f"L{cur.lastrowid:06d}"
        return {"case_id": case, "card_last4": row["card_last4"]}

    # ------------------------------------------------------------ test/demo helpers
    def last_code(self, customer_id: int) -> str | None:
        """The newest one-time code sent (what the caller reads off the SMS)."""
        row = self._row("SELECT code FROM sms_outbox WHERE customer_id = ? ORDER BY id DESC LIMIT 1", customer_id)
        return row["code"] if row else None

    def card_status(self, customer_id: int) -> str | None:
        row = self._row("SELECT card_status FROM customers WHERE id = ?", customer_id)
        return row["card_status"] if row else None

    ACTIONS = ("verify_id_pin", "verify_phone_birth", "customer_by_id", "get_balance", "send_reset_code",
               "check_reset_code", "set_pin", "report_card_loss")

    def register(self, registry: BackendRegistry) -> BackendRegistry:
        for name in self.ACTIONS:
            registry.register(name, getattr(self, name))
        return registry
