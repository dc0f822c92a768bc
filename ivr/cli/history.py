"""``ivr history export|erase|show|prune``: a customer's contact history, and
the PDPA requests on it (a data subject may ask for a copy, or for deletion).

The database is ``--db``, else $IVR_HISTORY_DB, else ``history.sqlite3``
beside the demo bank (``--bank``). Output never holds a caller number in
clear: only the masked form the history stores."""
from __future__ import annotations

import argparse
import json
import sys

from ivr.errors import IvrError


def register(subparsers: argparse._SubParsersAction) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", default=None, help="history database (default: $IVR_HISTORY_DB, else beside the bank)")
    common.add_argument("--bank", default=None, help="demo bank SQLite file the default database sits beside")
    p = subparsers.add_parser("history", help="caller history: export or erase a customer's (PDPA), show, prune",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="history_command", metavar="ACTION")

    e = sub.add_parser("export", parents=[common], help="everything held on a customer, as JSON")
    e.add_argument("customer", help="customer id")
    e.add_argument("-o", "--output", default=None, help="write to this file (default: stdout)")
    e.set_defaults(func=run_export)

    x = sub.add_parser("erase", parents=[common], help="delete a customer's history (and their unidentified calls)")
    x.add_argument("customer", help="customer id")
    x.add_argument("--dry-run", action="store_true", help="only say how many contacts would go")
    x.add_argument("--records", default=None, metavar="PATH|URL",
                   help="call records to anonymise too (SQLite path or postgresql:// URL; default "
                        "var/calls.sqlite3 when it exists; 'none' = history only)")
    x.set_defaults(func=run_erase)

    s = sub.add_parser("show", parents=[common], help="what a flow and the agent would see for a customer")
    s.add_argument("customer", help="customer id")
    s.set_defaults(func=run_show)

    r = sub.add_parser("prune", parents=[common], help="delete contacts older than the retention period")
    r.add_argument("--days", type=float, default=None, help="retention in days (default 730)")
    r.set_defaults(func=run_prune)
    p.set_defaults(func=lambda args: (p.print_help(), 0)[1])


def _open(args: argparse.Namespace):
    from ivr.history import CallerHistory, default_history_path

    return CallerHistory.open(args.db or default_history_path(args.bank))


def _customer(value: str) -> str:
    v = value.strip()
    if not v or len(v) > 64 or not all(c.isalnum() or c in "-_" for c in v):
        raise IvrError(f"customer id {value!r} must be 1-64 letters, digits, - or _", "ivr history")
    return v


def run_export(args: argparse.Namespace) -> int:
    cid = _customer(args.customer)
    h = _open(args)
    try:
        doc = h.export(cid)
    finally:
        h.close()
    text = json.dumps(doc, ensure_ascii=False, indent=1)
    if args.output:
        from pathlib import Path

        Path(args.output).write_text(text + "\n", encoding="utf-8")
        print(f"exported {len(doc['contacts'])} contact(s) of customer {cid} to {args.output}", file=sys.stderr)
    else:
        print(text)
    return 0


def run_erase(args: argparse.Namespace) -> int:
    cid = _customer(args.customer)
    h = _open(args)
    try:
        if args.dry_run:
            n = len(h.export(cid)["contacts"])
            print(f"would erase {n} contact(s) of customer {cid}")
            return 0
        calls = h.call_ids_of(cid)
        anonymised = _erase_records(args.records, calls)  # the records first: a failure leaves history to retry by
        n = h.erase(cid)
    finally:
        h.close()
    print(f"erased {n} contact(s) of customer {cid}"
          + (f"; anonymised {anonymised} call record(s)" if anonymised is not None else ""))
    return 0


def _erase_records(where: str | None, call_ids: list[str]) -> int | None:
    """Blank the customer's calls in the call records (events, recordings, caller); None: no records store."""
    from pathlib import Path

    if where == "none" or (where is None and not Path("var/calls.sqlite3").is_file()):
        return None
    from ivr.session.records import open_records

    records = open_records(where or "var/calls.sqlite3")
    try:
        return records.erase_calls(call_ids)
    finally:
        records.close()


def run_show(args: argparse.Namespace) -> int:
    cid = _customer(args.customer)
    h = _open(args)
    try:
        summary = h.summary(customer_id=cid)
    finally:
        h.close()
    print(json.dumps(summary.as_slot(), ensure_ascii=False, indent=1))
    return 0


def run_prune(args: argparse.Namespace) -> int:
    h = _open(args)
    try:
        n = h.prune(args.days)
    finally:
        h.close()
    print(f"pruned {n} contact(s)")
    return 0
