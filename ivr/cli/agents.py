"""``ivr agents add|list|remove|queues|desktop``: live agents, their queues,
and the agent desktop web app.

The queue store is ``--store URL`` or $IVR_HANDOFF_STORE: ``sqlite:///path``
(default ~/.local/share/ivr/handoff.sqlite3) or ``redis://host:port/db``.
In a cluster the desktop runs as its own process on the shared stores:
``ivr agents desktop --store redis://… --records postgresql://…`` (queue
state in Redis, supervisor numbers from every worker's events in PostgreSQL);
``ivr agents report --records postgresql://…`` prints those numbers."""
from __future__ import annotations

import argparse
import asyncio
import getpass
import sys

from ivr.errors import IvrError


def register(subparsers: argparse._SubParsersAction) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--store", default=None, metavar="URL",
                        help="queue store: sqlite:///path or redis://host:port/db "
                             "(default: $IVR_HANDOFF_STORE or the embedded file)")
    p = subparsers.add_parser("agents", help="manage live agents, show queues, run the agent desktop",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="agents_command", metavar="ACTION")

    a = sub.add_parser("add", parents=[common], help="add or update an agent (asks for a password)")
    a.add_argument("agent_id")
    a.add_argument("--name", required=True, help="display name")
    a.add_argument("--tier", default="T1",
                   help="home tier: T1 general, T2 technical, T3 complaints/team lead, TQ quality")
    a.add_argument("--skills", default=None, help="queues this agent serves, comma-separated (default: the tier)")
    a.add_argument("--role", default="agent", choices=("agent", "supervisor"))
    a.add_argument("--languages", default="zh-TW", help="languages spoken, comma-separated: zh-TW,nan-TW")
    a.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    a.set_defaults(func=run_add)

    ls = sub.add_parser("list", parents=[common], help="agents, tiers, skills and live status")
    ls.set_defaults(func=run_list)

    r = sub.add_parser("remove", parents=[common], help="remove an agent (and their sessions)")
    r.add_argument("agent_id")
    r.set_defaults(func=run_remove)

    q = sub.add_parser("queues", parents=[common], help="queues, waiting callers and estimated wait")
    q.set_defaults(func=run_queues)

    d = sub.add_parser("desktop", parents=[common], help="serve the agent desktop (uvicorn)")
    d.add_argument("--listen", default="127.0.0.1:8080", metavar="HOST:PORT")
    d.add_argument("--secure-cookies", action="store_true", help="mark the session cookie Secure (behind HTTPS)")
    d.add_argument("--records", default=None, metavar="URL",
                   help="the cluster's call records (postgresql://…): supervisor numbers of every worker")
    d.add_argument("--campaigns", default=None, metavar="PATH",
                   help="outbound campaign state for the supervisors' campaign panel (default: $IVR_CAMPAIGN_DB, "
                        "else campaigns.sqlite3 beside the caller history when it exists; 'none')")
    d.set_defaults(func=run_desktop)

    rp = sub.add_parser("report", help="supervisor numbers of every worker from the call records, as JSON")
    rp.add_argument("--records", required=True, metavar="URL", help="call records: postgresql://… or sqlite:///…")
    rp.add_argument("--hours", type=float, default=24.0, help="how far back (default 24)")
    rp.set_defaults(func=run_report)
    p.set_defaults(func=lambda args: (p.print_help(), 0)[1])


def _service(args):
    from ivr.handoff import HandoffService, open_store

    store = open_store(args.store)
    if getattr(args, "records", None):
        from ivr.handoff.store.reporting import ReportingStore
        from ivr.session.records import open_records

        return HandoffService(ReportingStore(store, open_records(args.records, worker="desktop"), close_log=True))
    return HandoffService(store)


def _password(args) -> str:
    if args.password_stdin:
        pw = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        pw = getpass.getpass(f"password for {args.agent_id}: ")
        if getpass.getpass("again: ") != pw:
            raise IvrError("passwords differ", "ivr agents add")
    else:
        raise IvrError("no terminal to ask for a password; use --password-stdin", "ivr agents add")
    return pw


def run_add(args) -> int:
    svc = _service(args)
    skills = [s.strip() for s in args.skills.split(",") if s.strip()] if args.skills else None
    langs = tuple(x.strip() for x in args.languages.split(",") if x.strip())
    prof = asyncio.run(svc.add_agent(args.agent_id, args.name, _password(args), tier=args.tier, skills=skills,
                                     role=args.role, languages=langs))
    print(f"agent {prof.id} ({prof.name}) tier {prof.tier}, skills {','.join(prof.skills)}, "
          f"languages {','.join(prof.languages)}, role {prof.role} in {svc.store.url}")
    return 0


def run_list(args) -> int:
    from rich.console import Console
    from rich.table import Table

    svc = _service(args)
    rows = asyncio.run(svc.agents())
    table = Table(title=f"agents ({svc.store.url})")
    for col in ("id", "name", "tier", "skills", "languages", "role", "status"):
        table.add_column(col, no_wrap=True)
    for prof, st in rows:
        table.add_row(prof.id, prof.name, prof.tier, ",".join(prof.skills), ",".join(prof.languages), prof.role,
                      st.status)
    Console().print(table if rows else "no agents yet: ivr agents add ID --name NAME --tier T1")
    return 0


def run_remove(args) -> int:
    svc = _service(args)
    if not asyncio.run(svc.remove_agent(args.agent_id)):
        raise IvrError(f"no agent {args.agent_id!r}", svc.store.url)
    print(f"removed {args.agent_id}")
    return 0


def run_queues(args) -> int:
    from rich.console import Console
    from rich.table import Table

    svc = _service(args)
    view = asyncio.run(svc.queue_view())
    table = Table(title=f"queues ({svc.store.url})")
    for col in ("queue", "tier", "description", "waiting", "longest wait", "estimated wait", "overflow"):
        table.add_column(col, no_wrap=True)
    for q in view:
        cfg = svc.queues[q["name"]]
        longest = max((w["waited"] for w in q["waiting"]), default=None)
        table.add_row(q["name"], q["tier"], q["description"], str(len(q["waiting"])),
                      "-" if longest is None else f"{longest:.0f} s",
                      "no agents" if q["ewt"] is None else f"{q['ewt']:.0f} s",
                      f"→ {cfg.overflow_to} after {cfg.overflow_after:.0f} s" if cfg.overflow_to else "-")
    Console().print(table)
    return 0


def run_desktop(args) -> int:
    import uvicorn

    from ivr.handoff import create_app

    host, _, port = args.listen.rpartition(":")
    if not host or not port.isdigit():
        raise IvrError(f"--listen wants HOST:PORT, got {args.listen!r}", "ivr agents desktop")
    svc = _service(args)
    from ivr.outbound.state import open_for_desktop

    campaigns = open_for_desktop(getattr(args, "campaigns", None))
    app = create_app(svc, secure_cookies=args.secure_cookies, campaigns=campaigns.overview if campaigns else None)
    print(f"agent desktop on http://{host}:{port}/ (store {svc.store.url}"
          + (f", campaigns {campaigns.path})" if campaigns else ")"), file=sys.stderr)
    try:
        uvicorn.run(app, host=host, port=int(port), log_level="warning")
    finally:
        if campaigns:
            campaigns.close()
    return 0


def run_report(args) -> int:
    import json
    import time

    from ivr.handoff import default_queues
    from ivr.handoff.stats import cluster_report
    from ivr.session.records import open_records

    if args.hours <= 0:
        raise IvrError(f"--hours must be positive, got {args.hours}", "ivr agents report")
    records = open_records(args.records)
    try:
        now = time.time()
        report = cluster_report(records, default_queues(), now - args.hours * 3600, now)
    finally:
        records.close()
    print(json.dumps(report, ensure_ascii=False, indent=1))
    return 0
