"""A small demo bank on SQLite, so the shipped flows run end to end with no
service to start: accounts, hashed PINs, identity checks, balances, one-time
codes for PIN reset (written to an ``sms_outbox`` table) and card-loss reports.

Authentication as a bank would have it: the caller number + birth date only
*identify* a customer; verification needs the phone-banking PIN. Wrong PINs
count in ``pin_lockout`` (per customer, and per masked ID for IDs that match no
one, so a lockout never tells whether an ID exists); ``MAX_PIN_FAILURES`` in a
row lock PIN verification until the PIN is reset; a right PIN resets the count.
Every attempt is a row in ``verification_audit``: who (customer id, else a
masked ID or number), when, method, result; never the PIN or the birth date.

Seeded on first use. The customers are invented; their Taiwan IDs carry valid
checksums so the same validation applies as for real callers."""
from __future__ import annotations

import datetime as dt
import os
import secrets
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any, ClassVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ivr.backends.registry import BackendRegistry
from ivr.dialog.extract import ID_LETTER_CODES, taiwan_id_valid
from ivr.redact import mask_taiwan_ids, redact

# PINs are short; argon2 still makes a stolen table slow to brute-force. Low
# cost parameters keep a verify well under 10 ms on the 2-core CI machine.
_HASHER = PasswordHasher(time_cost=2, memory_cost=4096, parallelism=1)
CODE_TTL_SECONDS = 300
MAX_PIN_FAILURES = 3


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
# What customer value recognition reads (ivr.history.value): customer since,
# products held, and a churn signal (asked to close an account or a card).
SEED_PROFILES = {
    1: ("2019-06-01", "savings,credit_card", 0),
    2: ("2012-02-10", "savings,time_deposit,fund,credit_card", 0),
    3: ("1995-09-01", "savings", 1),
}

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
CREATE TABLE IF NOT EXISTS pin_lockout (
  subject TEXT PRIMARY KEY, failures INTEGER NOT NULL DEFAULT 0, locked INTEGER NOT NULL DEFAULT 0,
  updated REAL NOT NULL);
CREATE TABLE IF NOT EXISTS customer_profile (
  customer_id INTEGER PRIMARY KEY, since TEXT NOT NULL, products TEXT NOT NULL DEFAULT '',
  cancel_requested INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS verification_audit (
  id INTEGER PRIMARY KEY, at TEXT NOT NULL, customer_id INTEGER, who TEXT NOT NULL, method TEXT NOT NULL,
  result TEXT NOT NULL, call_id TEXT);
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
            cols = {r["name"] for r in db.execute("PRAGMA table_info(verification_audit)")}
            if "call_id" not in cols:  # a bank file made before audit rows named their call
                db.execute("ALTER TABLE verification_audit ADD COLUMN call_id TEXT")
            if not db.execute("SELECT 1 FROM customers LIMIT 1").fetchone():
                for name, tid, pin, phone, birth, bal, card in SEED_CUSTOMERS:
                    db.execute("INSERT INTO customers"
                               " (name, taiwan_id, pin_hash, phone, birth_date, balance, card_last4)"
                               " VALUES (?,?,?,?,?,?,?)", (name, tid, _HASHER.hash(pin), phone, birth, bal, card))
            if not db.execute("SELECT 1 FROM customer_profile LIMIT 1").fetchone():
                db.executemany("INSERT OR IGNORE INTO customer_profile (customer_id, since, products, cancel_requested)"
                               " VALUES (?,?,?,?)", [(cid, *p) for cid, p in SEED_PROFILES.items()])

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
    def _audit(self, db: sqlite3.Connection, customer_id: int | None, who: str, method: str, result: str,
               call_id: str | None = None) -> None:
        when = dt.datetime.fromtimestamp(self._now(), dt.UTC).isoformat(timespec="seconds")
        db.execute("INSERT INTO verification_audit (at, customer_id, who, method, result, call_id)"
                   " VALUES (?,?,?,?,?,?)", (when, customer_id, who, method, result, call_id))

    def _check_pin(self, row: sqlite3.Row | None, subject: str, who: str, pin: str, method: str,
                   call_id: str | None) -> dict[str, Any]:
        """The PIN check both paths share: lockout first, then the hash; the
        counter and the audit row are written in the same transaction."""
        cid = row["id"] if row is not None else None
        with closing(self._db()) as db, db:
            lock = db.execute("SELECT failures, locked FROM pin_lockout WHERE subject = ?", (subject,)).fetchone()
            if lock is not None and lock["locked"]:
                self._audit(db, cid, who, method, "pin_locked", call_id)
                return {"ok": False, "error": "pin_locked"}
            good = False
            if row is not None:
                try:
                    good = _HASHER.verify(row["pin_hash"], str(pin))
                except (VerificationError, InvalidHashError):
                    good = False
            if good:
                db.execute("DELETE FROM pin_lockout WHERE subject = ?", (subject,))
                self._audit(db, cid, who, method, "ok", call_id)
                return self._who(row) if row is not None else {"ok": False, "error": "wrong_pin"}
            failures = (lock["failures"] if lock is not None else 0) + 1
            locked = failures >= MAX_PIN_FAILURES
            db.execute("INSERT INTO pin_lockout (subject, failures, locked, updated) VALUES (?,?,?,?)"
                       " ON CONFLICT(subject) DO UPDATE SET failures = excluded.failures,"
                       " locked = excluded.locked, updated = excluded.updated",
                       (subject, failures, int(locked), self._now()))
            error = "pin_locked" if locked else ("wrong_pin" if row is not None else "no_such_customer")
            self._audit(db, cid, who, method, error, call_id)
        return {"ok": False, "error": error}

    def verify_id_pin(self, id_number: str, pin: str, call_id: str | None = None) -> dict[str, Any]:
        tid = str(id_number or "").upper()
        row = self._row("SELECT * FROM customers WHERE taiwan_id = ?", tid)
        if not taiwan_id_valid(tid):  # no one has it, and anyone can check a checksum: no counter
            with closing(self._db()) as db, db:
                self._audit(db, None, "invalid_id", "id_pin", "no_such_customer", call_id)
            return {"ok": False, "error": "no_such_customer"}
        masked = mask_taiwan_ids(tid)
        # an ID that matches no one gets a counter too: it locks after the same
        # number of tries, so a caller cannot tell a real ID from a made-up one
        subject = f"customer:{row['id']}" if row is not None else f"unknown:{masked}"
        return self._check_pin(row, subject, masked, pin, "id_pin", call_id)

    def verify_customer_pin(self, customer_id: int, pin: str, call_id: str | None = None) -> dict[str, Any]:
        """The PIN of a customer already identified (by caller number + birth date)."""
        row = self._row("SELECT * FROM customers WHERE id = ?", customer_id)
        if row is None:
            return {"ok": False, "error": "no_such_customer"}
        return self._check_pin(row, f"customer:{row['id']}", f"customer:{row['id']}", pin, "caller_number_pin",
                               call_id)

    def identify_phone_birth(self, caller: str, birth_date: str, call_id: str | None = None) -> dict[str, Any]:
        """Identification only: the customer id for a known number whose birth
        date matches. It does not verify: balance and card services still need
        the PIN (verify_customer_pin)."""
        phone = "".join(c for c in str(caller or "") if c.isdigit())
        if phone.startswith("886"):
            phone = "0" + phone[3:]
        row = self._row("SELECT * FROM customers WHERE phone = ?", phone)
        if row is None:
            result: dict[str, Any] = {"ok": False, "error": "unknown_number"}
        elif str(birth_date) != row["birth_date"]:
            result = {"ok": False, "error": "wrong_birth_date"}
        else:
            result = {"customer_id": row["id"]}
        with closing(self._db()) as db, db:
            who = f"customer:{row['id']}" if row is not None else redact(phone)
            self._audit(db, row["id"] if row is not None else None, who, "caller_number_birth_date",
                        "identified" if "customer_id" in result else str(result["error"]), call_id)
        return result

    def customer_by_id(self, id_number: str) -> dict[str, Any]:
        row = self._row("SELECT * FROM customers WHERE taiwan_id = ?", str(id_number or "").upper())
        return self._who(row) if row else {"ok": False, "error": "no_such_customer"}

    def get_balance(self, customer_id: int) -> dict[str, Any]:
        row = self._row("SELECT * FROM customers WHERE id = ?", customer_id)
        if row is None:
            return {"ok": False, "error": "no_such_customer"}
        return {"balance": row["balance"]}

    def customer_profile(self, customer_id: int | str = "", caller: str = "") -> dict[str, Any]:
        """What value recognition reads: balance, products, tenure, churn signals.
        By customer id, else by the caller's number (a caller-ID match only
        *recognizes* a customer for routing; it never verifies anyone)."""
        if str(customer_id or "").strip():
            row = self._row("SELECT * FROM customers WHERE id = ?", str(customer_id).strip())
        else:
            phone = "".join(c for c in str(caller or "") if c.isdigit())
            phone = "0" + phone[3:] if phone.startswith("886") else phone
            row = self._row("SELECT * FROM customers WHERE phone = ?", phone) if phone else None
        if row is None:
            return {"ok": False, "error": "no_such_customer"}
        prof = self._row("SELECT * FROM customer_profile WHERE customer_id = ?", row["id"])
        since = dt.date.fromisoformat(prof["since"]) if prof else None
        today = dt.datetime.fromtimestamp(self._now()).date()
        years = (today.year - since.year - ((today.month, today.day) < (since.month, since.day))) if since else 0
        products = [p for p in (prof["products"] if prof else "").split(",") if p]
        return {"customer_id": row["id"], "balance": row["balance"], "products": products,
                "products_count": len(products), "tenure_years": years,
                "cancel_requested": bool(prof["cancel_requested"]) if prof else False,
                "card_status": row["card_status"]}

    # card statements and a flagged transaction, for the outbound demo flows (payment_reminder, fraud_alert)
    DEMO_STATEMENTS: ClassVar[dict[int, int]] = {1: 12_345, 2: 86_000, 3: 3_200}

    def outbound_facts(self, number: str) -> dict[str, Any]:
        """What a campaign list row would carry for a customer's number: the
        statement's amount and due date (the 15th of next month), the card's
        last 4 and a flagged purchase. Used when no dialer registered the call."""
        phone = "".join(c for c in str(number or "") if c.isdigit())
        phone = "0" + phone[3:] if phone.startswith("886") else phone
        row = self._row("SELECT * FROM customers WHERE phone = ?", phone) if phone else None
        if row is None:
            return {"ok": False, "error": "no_such_customer"}
        today = dt.datetime.fromtimestamp(self._now()).date()
        due = (today.replace(day=28) + dt.timedelta(days=4)).replace(day=15)
        return {"customer_id": str(row["id"]), "customer_name": row["name"], "card_last4": row["card_last4"],
                "amount": str(self.DEMO_STATEMENTS.get(row["id"], 1_000)), "due_date": due.isoformat(),
                "merchant": "海外網路商店", "txn_amount": "28800"}

    def send_reset_code(self, customer_id: int) -> dict[str, Any]:
        row = self._row("SELECT * FROM customers WHERE id = ?", customer_id)
        if row is None:
            return {"ok": False, "error": "no_such_customer"}
        code = f"{secrets.randbelow(10**6):06d}"
        with closing(self._db()) as db, db:
            db.execute("INSERT INTO sms_outbox (customer_id, phone, code, purpose, created) VALUES (?,?,?,?,?)",
                       (customer_id, row["phone"], code, "pin_reset", self._now()))
        return {"phone_last3": row["phone"][-3:]}

    def check_reset_code(self, customer_id: int, code: str, call_id: str | None = None) -> dict[str, Any]:
        with closing(self._db()) as db, db:
            row = db.execute("SELECT * FROM sms_outbox WHERE customer_id = ? AND purpose = 'pin_reset' AND used = 0"
                             " ORDER BY id DESC LIMIT 1", (customer_id,)).fetchone()
            if row is None or self._now() - row["created"] > CODE_TTL_SECONDS:
                result = "no_valid_code"
            elif not secrets.compare_digest(row["code"], str(code)):
                result = "wrong_code"
            else:
                result = "ok"
                db.execute("UPDATE sms_outbox SET used = 1 WHERE id = ?", (row["id"],))
            self._audit(db, customer_id, f"customer:{customer_id}", "sms_code", result, call_id)
        return {"code_ok": True} if result == "ok" else {"ok": False, "error": result}

    def set_pin(self, customer_id: int, pin: str) -> dict[str, Any]:
        pin = str(pin)
        if not (pin.isdigit() and len(pin) == 4) or len(set(pin)) == 1:
            return {"ok": False, "error": "weak_pin"}
        with closing(self._db()) as db, db:
            n = db.execute("UPDATE customers SET pin_hash = ? WHERE id = ?", (_HASHER.hash(pin), customer_id)).rowcount
            # a new PIN, set after a one-time code, lifts a PIN lockout
            db.execute("DELETE FROM pin_lockout WHERE subject = ?", (f"customer:{customer_id}",))
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

    def pin_failures(self, customer_id: int) -> tuple[int, bool]:
        """(wrong PINs in a row, locked) for a customer."""
        row = self._row("SELECT failures, locked FROM pin_lockout WHERE subject = ?", f"customer:{customer_id}")
        return (row["failures"], bool(row["locked"])) if row else (0, False)

    def unlock_pin(self, customer_id: int) -> None:
        """What a back-office agent does after verifying the customer in person."""
        with closing(self._db()) as db, db:
            db.execute("DELETE FROM pin_lockout WHERE subject = ?", (f"customer:{customer_id}",))
            self._audit(db, customer_id, f"customer:{customer_id}", "agent_unlock", "ok")

    def audit_rows(self) -> list[dict[str, Any]]:
        """The verification audit trail, oldest first."""
        with closing(self._db()) as db:
            rows = db.execute("SELECT at, customer_id, who, method, result, call_id FROM verification_audit"
                              " ORDER BY id")
            return [dict(r) for r in rows.fetchall()]

    ACTIONS = ("verify_id_pin", "verify_customer_pin", "identify_phone_birth", "customer_by_id", "get_balance",
               "customer_profile", "send_reset_code", "check_reset_code", "set_pin", "report_card_loss")

    def register(self, registry: BackendRegistry) -> BackendRegistry:
        for name in self.ACTIONS:
            registry.register(name, getattr(self, name))
        return registry
