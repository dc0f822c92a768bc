"""The campaign's list (CSV) and its do-not-call list.

The CSV has a header with ``id`` and ``number``; every other column goes to the
flow as a slot (``amount``, ``due_date``, ``merchant`` …). Numbers are kept
national (``0912345678``); a row that is not a Taiwanese phone number is one
error naming ``file:line``."""
from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ivr.history.keys import normalize_number
from ivr.outbound.campaign import CampaignError

# mobile 09xxxxxxxx, landline 0[2-8] + 7-8 digits
_TW_NUMBER = re.compile(r"^0(9[0-9]{8}|[2-8][0-9]{7,8})$")
_COLUMN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MAX_CONTACTS = 1_000_000


@dataclass(frozen=True)
class CampaignContact:
    id: str
    number: str
    variables: Mapping[str, str] = field(default_factory=dict)


def valid_number(number: str) -> bool:
    return bool(_TW_NUMBER.match(normalize_number(number)))


def read_contacts(path: Path) -> list[CampaignContact]:
    try:
        f = path.open(encoding="utf-8-sig", newline="")
    except OSError as e:
        raise CampaignError(f"cannot read contact list: {e.strerror or e}", str(path)) from None
    with f:
        rows = csv.reader(f)
        header = next(rows, None)
        if header is None:
            raise CampaignError("contact list is empty (needs a header with id,number)", f"{path}:1")
        header = [h.strip() for h in header]
        for col in ("id", "number"):
            if col not in header:
                raise CampaignError(f"contact list header has no '{col}' column", f"{path}:1")
        for h in header:
            if not _COLUMN.match(h):
                raise CampaignError(f"column name {h!r} must be letters, digits and _ (a flow slot)", f"{path}:1")
        out: list[CampaignContact] = []
        seen: set[str] = set()
        for row in rows:
            line = rows.line_num
            if not any(c.strip() for c in row):
                continue
            if len(row) != len(header):
                raise CampaignError(f"{len(row)} fields, the header has {len(header)}", f"{path}:{line}")
            rec = {h: v.strip() for h, v in zip(header, row, strict=True)}
            cid, number = rec.pop("id"), normalize_number(rec.pop("number"))
            if not cid:
                raise CampaignError("empty id", f"{path}:{line}")
            if cid in seen:
                raise CampaignError(f"id {cid!r} appears twice", f"{path}:{line}")
            if not _TW_NUMBER.match(number):
                # the number itself stays out of the message: it is personal data
                raise CampaignError(f"contact {cid}: not a Taiwanese phone number", f"{path}:{line}")
            seen.add(cid)
            out.append(CampaignContact(cid, number, rec))
            if len(out) > MAX_CONTACTS:
                raise CampaignError(f"more than {MAX_CONTACTS} contacts", f"{path}:{line}")
    return out


class DoNotCall:
    """The do-not-call list, read again whenever its file changed: a number
    added mid-campaign is never dialled after that (checked at dial time)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._numbers: frozenset[str] = frozenset()

    def _refresh(self) -> None:
        if self.path is None:
            return
        try:
            st = self.path.stat()
        except OSError as e:  # the list vanished: calling on regardless would break the law, so stop
            raise CampaignError(f"do-not-call list unreadable: {e.strerror or e}", str(self.path)) from None
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp == self._stamp:
            return
        numbers = set()
        for line in self.path.read_text(encoding="utf-8").splitlines():
            s = normalize_number(line.split("#", 1)[0])
            if s:
                numbers.add(s)
        self._numbers, self._stamp = frozenset(numbers), stamp

    def blocked(self, number: str) -> bool:
        self._refresh()
        return normalize_number(number) in self._numbers

    def __len__(self) -> int:
        self._refresh()
        return len(self._numbers)
