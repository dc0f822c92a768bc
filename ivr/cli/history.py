"""``ivr history export|erase|show|prune``: a customer's contact history, and
the PDPA requests on it (a data subject may ask for a copy, or for deletion).

The database is ``--db``, else $IVR_HISTORY_DB, else ``history.sqlite3``
beside the demo bank (``--bank``); a ``postgresql://`` URL is the cluster's
shared history. ``export`` and ``erase`` also reach the customer's handoff
tickets in the queue store (``--handoff``: closed tickets are erased, live ones
reported) and ``erase`` the call records (``--records``). Output never holds a
caller number in clear: only a masked form."""
from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from ivr.errors import IvrError

if TYPE_CHECKING:
    from ivr.session.records import CallRecords


def register(subparsers: argparse._SubParsersAction) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", default=None, help="history database: a path or postgresql:// URL "
                        "(default: $IVR_HISTORY_DB, else beside the bank)")
    common.add_argument("--bank", default=None, help="demo bank SQLite file the default database sits beside")
    queue = argparse.ArgumentParser(add_help=False)
    queue.add_argument("--handoff", default=None, metavar="URL",
                       help="handoff queue store whose tickets of the customer to include (sqlite:///path or "
                            "redis://…; default $IVR_HANDOFF_STORE, else the embedded queue when it exists; 'none')")
    p = subparsers.add_parser("history", help="caller history: export or erase a customer's (PDPA), show, prune",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="history_command", metavar="ACTION")

    e = sub.add_parser("export", parents=[common, queue], help="everything held on a customer, as JSON")
    e.add_argument("customer", help="customer id")
    e.add_argument("-o", "--output", default=None, help="write to this file (default: stdout)")
    e.set_defaults(func=run_export)

    x = sub.add_parser("erase", parents=[common, queue],
                       help="delete a customer's history (and their unidentified calls), calls and closed tickets")
    x.add_argument("customer", help="customer id")
    x.add_argument("--dry-run", action="store_true",
                   help="only count what would go: contacts, call records, closed handoff tickets (and open ones)")
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
    from ivr.history import CallerHistory, default_history_store

    return CallerHistory.open(args.db or default_history_store(args.bank))


def _customer(value: str) -> str:
    v = value.strip()
    if not v or len(v) > 64 or not all(c.isalnum() or c in "-_" for c in v):
        raise IvrError(f"customer id {value!r} must be 1-64 letters, digits, - or _", "ivr history")
    return v


def _handoff_store(where: str | None):
    """The queue store to reach, or None: 'none', or no store configured and no embedded file."""
    import os
    from pathlib import Path

    from ivr.handoff.store import default_store_url, open_store

    if where == "none":
        return None
    url = where or default_store_url()
    if not where and not os.environ.get("IVR_HANDOFF_STORE") and not Path(url[len("sqlite:///"):]).is_file():
        return None  # the embedded queue was never used here: nothing to reach (and nothing to create)
    return open_store(url)


def _calls_and_tickets(doc: dict) -> tuple[list[str], list[str]]:
    contacts = doc["contacts"]
    return [str(c["call_id"]) for c in contacts], [str(c["ticket"]) for c in contacts if c.get("ticket")]


def run_export(args: argparse.Namespace) -> int:
    cid = _customer(args.customer)
    h = _open(args)
    try:
        doc = h.export(cid)
    finally:
        h.close()
    store = _handoff_store(args.handoff)
    if store is not None:
        from ivr.handoff.store.pdpa import export_tickets

        try:
            doc["handoff_tickets"] = export_tickets(store, *_calls_and_tickets(doc))
        finally:
            store.close()
    text = json.dumps(doc, ensure_ascii=False, indent=1)
    if args.output:
        from pathlib import Path

        Path(args.output).write_text(text + "\n", encoding="utf-8")
        tickets = f" and {len(doc['handoff_tickets'])} handoff ticket(s)" if "handoff_tickets" in doc else ""
        print(f"exported {len(doc['contacts'])} contact(s){tickets} of customer {cid} to {args.output}",
              file=sys.stderr)
    else:
        print(text)
    return 0


def run_erase(args: argparse.Namespace) -> int:
    cid = _customer(args.customer)
    h = _open(args)
    try:
        if args.dry_run:
            doc = h.export(cid)
            print(_dry_run(args, cid, len(doc["contacts"]), *_calls_and_tickets(doc)))
            return 0
        calls, tickets = _calls_and_tickets(h.export(cid))
        # the records and tickets first: a failure leaves history, which finds them, to retry by
        erased, found = _erase_tickets(args.handoff, calls, tickets, cid)
        anonymised = _erase_records(args.records, calls, sorted(set(tickets) | set(found)))
        n = h.erase(cid)
    finally:
        h.close()
    print(f"erased {n} contact(s) of customer {cid}"
          + (f"; anonymised {anonymised} call record(s)" if anonymised is not None else "")
          + (f"; erased {erased} closed handoff ticket(s)" if erased is not None else ""))
    return 0


def _dry_run(args: argparse.Namespace, cid: str, contacts: int, calls: list[str], tickets: list[str]) -> str:
    """What ``erase`` would do, counted and nothing changed: contacts, call records, tickets."""
    line = f"would erase {contacts} contact(s) of customer {cid}"
    store = _handoff_store(args.handoff)
    plan = None
    if store is not None:
        from ivr.handoff.store.pdpa import plan_ticket_erasure

        try:
            plan = plan_ticket_erasure(store, calls, tickets)
        finally:
            store.close()
    records = _records(args.records)
    if records is not None:
        try:
            n = sum(1 for c in sorted(set(calls)) if records.get(c) is not None)
        finally:
            records.close()
        line += f"; anonymise {n} call record(s)"
    if plan is not None:
        line += f"; erase {plan.erased} closed handoff ticket(s)"
        if plan.still_open:
            line += (f"; refused now: {len(plan.still_open)} handoff ticket(s) still open "
                     f"({', '.join(plan.still_open[:5])})")
    return line


def _erase_tickets(where: str | None, call_ids: list[str], ticket_ids: list[str],
                   cid: str) -> tuple[int | None, list[str]]:
    """The customer's closed tickets in the handoff store: (how many erased, None:
    no store; the ids of their tickets). A
    ticket still live (a call waiting or with an agent) stops the whole erasure
    before anything is erased: history, which finds the tickets, must stay until
    it can be erased with them."""
    store = _handoff_store(where)
    if store is None:
        return None, []
    from ivr.handoff.models import FINAL
    from ivr.handoff.store.pdpa import customer_tickets, erase_customer_tickets

    try:
        theirs = customer_tickets(store, call_ids, ticket_ids)
        live = [t.id for t in theirs if t.status not in FINAL]
        if live:
            raise IvrError(f"customer {cid} has {len(live)} handoff ticket(s) still open ({', '.join(live[:5])}): "
                           "nothing erased; run it again once they are closed", "ivr history erase")
        return erase_customer_tickets(store, call_ids, ticket_ids).erased, [t.id for t in theirs]
    finally:
        store.close()


def _erase_records(where: str | None, call_ids: list[str], ticket_ids: list[str]) -> int | None:
    """Blank the customer's calls in the call records (events, recordings, caller) and the wrap-up notes of
    their tickets' queue events copied there for reports; None: no records store."""
    records = _records(where)
    if records is None:
        return None
    try:
        n = records.erase_calls(call_ids)
        records.erase_handoff_notes(ticket_ids)
        return n
    finally:
        records.close()


def _records(where: str | None) -> CallRecords | None:
    """The call records ``--records`` names (default var/calls.sqlite3 when it exists), or None."""
    from pathlib import Path

    if where == "none" or (where is None and not Path("var/calls.sqlite3").is_file()):
        return None
    from ivr.session.records import open_records

    return open_records(where or "var/calls.sqlite3")


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
