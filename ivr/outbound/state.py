"""Campaign state on SQLite (``campaigns.sqlite3`` beside caller history): a
campaign's status, each contact's progress and every attempt, so ``ivr
campaign start`` resumes where a stopped or crashed run left off, ``pause``
stops a running one, and ``status``/``report`` read it from any process.

Numbers are never stored here: a contact is its list id, its masked number
and the amount its row says (for the report's amounts promised)."""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ivr.errors import IvrError
from ivr.history.keys import mask_number
from ivr.outbound.scheduler import Attempt, ContactProgress
from ivr.sqlite_db import LockedSqlite

Status = Literal["running", "paused", "done"]
RIGHT_PARTY = ("promised_to_pay", "confirmed", "blocked", "refused", "callback")
STATE_ENV = "IVR_CAMPAIGN_DB"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS campaigns (
    name TEXT PRIMARY KEY, file TEXT NOT NULL, status TEXT NOT NULL, updated REAL NOT NULL);
CREATE TABLE IF NOT EXISTS progress (
    campaign TEXT NOT NULL, contact_id TEXT NOT NULL, number_shown TEXT NOT NULL, amount REAL NOT NULL DEFAULT 0,
    final TEXT NOT NULL DEFAULT '', next_at REAL NOT NULL DEFAULT 0, PRIMARY KEY (campaign, contact_id));
CREATE TABLE IF NOT EXISTS attempts (
    campaign TEXT NOT NULL, contact_id TEXT NOT NULL, attempt INTEGER NOT NULL, at REAL NOT NULL,
    outcome TEXT NOT NULL, flow_result TEXT NOT NULL DEFAULT '', transferred INTEGER NOT NULL DEFAULT 0,
    abandoned INTEGER NOT NULL DEFAULT 0, detail TEXT NOT NULL DEFAULT '', call_id TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (campaign, contact_id, attempt));
"""


class CampaignStateError(IvrError):
    """The campaign state database cannot be used."""


def default_state_path(history_path: str | Path) -> Path:
    """``$IVR_CAMPAIGN_DB``, else ``campaigns.sqlite3`` beside the caller history."""
    import os

    return Path(os.environ.get(STATE_ENV) or Path(history_path).with_name("campaigns.sqlite3"))


@dataclass(frozen=True)
class Saved:
    """A contact's progress as stored: what ``CampaignRun.restore`` takes back."""

    final: str
    next_at: float
    attempts: list[Attempt]


def _amount(value: str) -> float:
    try:
        return float(str(value).replace(",", "")) if value else 0.0
    except ValueError:
        return 0.0


# Columns added after the first release: (table, column, definition), added to an older file at open.
_ADDED = (("campaigns", "ceiling", "REAL"), ("campaigns", "contacts", "INTEGER"))


class CampaignState(LockedSqlite):
    def __init__(self, path: str | Path) -> None:
        LockedSqlite.__init__(self, path, _SCHEMA, CampaignStateError, "campaign state")
        for table, column, kind in _ADDED:
            if column not in {r[1] for r in self._run(f"PRAGMA table_info({table})")}:
                try:
                    self._run(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
                except CampaignStateError as e:  # another process added it between our look and ours
                    if "duplicate column" not in str(e):
                        raise

    # -- status -------------------------------------------------------------
    def set_status(self, name: str, status: Status, file: str = "", *, ceiling: float | None = None,
                   contacts: int | None = None) -> None:
        """``ceiling`` (the abandoned-rate ceiling of a progressive campaign) and
        ``contacts`` (the list's size) are kept once given."""
        self._run("INSERT INTO campaigns (name, file, status, updated, ceiling, contacts) VALUES (?,?,?,?,?,?) "
                  "ON CONFLICT(name) DO UPDATE SET status=excluded.status, updated=excluded.updated, "
                  "file=CASE WHEN excluded.file='' THEN campaigns.file ELSE excluded.file END, "
                  "ceiling=COALESCE(excluded.ceiling, campaigns.ceiling), "
                  "contacts=COALESCE(excluded.contacts, campaigns.contacts)",
                  (name, file, status, time.time(), ceiling, contacts))

    def status(self, name: str) -> Status | None:
        rows = self._run("SELECT status FROM campaigns WHERE name=?", (name,))
        return rows[0][0] if rows else None

    def campaigns(self) -> list[tuple[str, str, float]]:
        return [(str(n), str(s), float(u)) for n, s, u in self._run(
            "SELECT name, status, updated FROM campaigns ORDER BY name")]

    def overview(self) -> list[dict[str, Any]]:
        """Every campaign's progress for the supervisor's view: state, attempted,
        reached, promised to pay, transferred, DNC, voicemail, the abandoned rate
        against its ceiling (None: not a progressive campaign). No contact rows."""
        out = []
        for name, status, updated, ceiling, contacts in self._run(
                "SELECT name, status, updated, ceiling, contacts FROM campaigns ORDER BY name"):
            t = self.report(str(name), None if contacts is None else int(contacts))["totals"]
            rate = float(t["abandoned_rate"])
            out.append({"name": str(name), "status": str(status), "updated": float(updated),
                        "contacts": t["contacts"], "dials": t["attempts"], "attempted": t["attempted"],
                        "reached": t["contacted"], "promised_to_pay": t["promised_to_pay"],
                        "amount_promised": t["amount_promised"], "transferred": t["transferred"],
                        "dnc": t["dnc_skipped"], "voicemail": t["voicemails"], "answered": t["answered"],
                        "abandoned": t["abandoned"], "abandoned_rate": rate,
                        "abandon_ceiling": None if ceiling is None else float(ceiling),
                        "over_ceiling": ceiling is not None and rate > float(ceiling)})
        return out

    # -- progress -------------------------------------------------------------
    def save(self, campaign: str, p: ContactProgress) -> None:
        """The contact's progress now (after an attempt, a DNC skip, the window closing)."""
        c = p.contact
        self._run("INSERT INTO progress (campaign, contact_id, number_shown, amount, final, next_at) "
                  "VALUES (?,?,?,?,?,?) ON CONFLICT(campaign, contact_id) DO UPDATE SET final=excluded.final, "
                  "next_at=excluded.next_at", (campaign, c.id, mask_number(c.number),
                                               _amount(c.variables.get("amount", "")), p.final, p.next_at))
        for a in p.attempts:
            self._run("INSERT OR IGNORE INTO attempts (campaign, contact_id, attempt, at, outcome, flow_result, "
                      "transferred, abandoned, detail, call_id) VALUES (?,?,?,?,?,?,?,?,?,?)",
                      (campaign, a.contact_id, a.attempt, a.at, a.outcome, a.flow_result, int(a.transferred),
                       int(a.abandoned), a.detail[:200], a.call_id))

    def load(self, campaign: str) -> dict[str, Saved]:
        attempts: dict[str, list[Attempt]] = {}
        for cid, n, at, outcome, fr, tr, ab, detail, call_id in self._run(
                "SELECT contact_id, attempt, at, outcome, flow_result, transferred, abandoned, detail, call_id "
                "FROM attempts WHERE campaign=? ORDER BY contact_id, attempt", (campaign,)):
            attempts.setdefault(cid, []).append(Attempt(cid, int(n), float(at), outcome, fr, bool(tr), detail,
                                                        call_id, bool(ab)))
        return {cid: Saved(final, float(next_at), attempts.get(cid, [])) for cid, final, next_at in self._run(
            "SELECT contact_id, final, next_at FROM progress WHERE campaign=?", (campaign,))}

    # -- report ---------------------------------------------------------------
    def report(self, campaign: str, contacts_total: int | None = None) -> dict[str, Any]:
        """The campaign's figures and one row per contact (masked numbers only)."""
        rows = self._run("SELECT contact_id, number_shown, amount, final FROM progress WHERE campaign=? "
                         "ORDER BY contact_id", (campaign,))
        saved = self.load(campaign)
        per: list[dict[str, Any]] = []
        t = {"contacts": contacts_total if contacts_total is not None else len(rows), "attempts": 0, "attempted": 0,
             "contacted": 0,
             "right_party": 0, "promised_to_pay": 0, "amount_promised": 0.0, "amount_due": 0.0, "voicemails": 0,
             "dnc_skipped": 0, "transferred": 0, "answered": 0, "abandoned": 0}
        for cid, shown, amount, final in rows:
            tries = saved[cid].attempts if cid in saved else []
            answered = [a for a in tries if a.outcome == "answered"]
            t["attempts"] += len(tries)
            t["attempted"] += bool(tries)
            t["answered"] += len(answered)
            t["abandoned"] += sum(1 for a in answered if a.abandoned)
            t["voicemails"] += sum(1 for a in tries if a.outcome == "voicemail")
            t["contacted"] += bool(answered)
            t["right_party"] += any(a.flow_result in RIGHT_PARTY or a.transferred for a in answered)
            t["transferred"] += any(a.transferred for a in tries)
            t["dnc_skipped"] += final == "dnc"
            t["amount_due"] += float(amount)
            if final == "promised_to_pay":
                t["promised_to_pay"] += 1
                t["amount_promised"] += float(amount)
            per.append({"id": cid, "number": shown, "attempts": len(tries), "final": final or "pending",
                        "outcomes": [a.outcome for a in tries]})
        t["abandoned_rate"] = round(t["abandoned"] / t["answered"], 4) if t["answered"] else 0.0
        return {"campaign": campaign, "status": self.status(campaign) or "unknown", "totals": t, "contacts": per}


def open_for_desktop(where: str | Path | None) -> CampaignState | None:
    """The campaign state the agent desktop shows: ``where`` (a path, 'none'),
    else ``$IVR_CAMPAIGN_DB``, else the default file when a campaign made it."""
    import os

    if str(where) == "none":
        return None
    if where:
        return CampaignState(where)
    from ivr.history.service import default_history_path

    path = Path(os.environ.get(STATE_ENV) or default_state_path(default_history_path()))
    return CampaignState(path) if path.is_file() else None

