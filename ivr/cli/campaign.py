"""``ivr campaign validate|run``: outbound campaigns.

``validate`` checks a campaign file and the files it names (list, holidays,
do-not-call) and prints every problem as ``file:line: message`` (exit 1).
``run`` dials the list: ``--dialer sim`` rehearses the whole campaign on a
virtual clock (callees answer, ring out, are busy or reach voicemail at
random, seeded) to show its schedule and results in seconds; ``--dialer sip``
dials for real through the SIP room's dialer once it is installed."""
from __future__ import annotations

import argparse
import json
import sys

from ivr.errors import IvrError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("campaign", help="outbound campaigns: validate a campaign file, run it",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="campaign_command", metavar="ACTION")
    v = sub.add_parser("validate", help="check campaign files; print file:line errors")
    v.add_argument("files", nargs="+", help="campaign YAML files")
    v.set_defaults(func=run_validate)
    r = sub.add_parser("run", help="dial a campaign's list")
    r.add_argument("file", help="campaign YAML file")
    r.add_argument("--dialer", choices=("sim", "sip"), default="sim",
                   help="sim: rehearse on a virtual clock (default); sip: dial for real")
    r.add_argument("--start", default=None, help="sim: wall time to start, ISO 8601 (default: now), Asia/Taipei "
                                                 "when no offset is given")
    r.add_argument("--seed", type=int, default=1, help="sim: random seed of the callees")
    r.add_argument("--report", default=None, help="write the per-contact report (JSON) here")
    r.set_defaults(func=run_run)
    p.set_defaults(func=lambda args: (p.print_help(), 0)[1])


def run_validate(args: argparse.Namespace) -> int:
    from ivr.outbound import check, read_contacts
    from ivr.outbound.contacts import DoNotCall

    bad = 0
    for f in args.files:
        campaign, problems = check(f)
        if campaign is not None:
            try:
                contacts = read_contacts(campaign.list_path)
                dnc = DoNotCall(campaign.dnc_path)
                on_dnc = sum(1 for c in contacts if dnc.blocked(c.number))
            except IvrError as e:
                problems = [str(e)]
            else:
                print(f"{f}: ok ({len(contacts)} contacts, {on_dnc} on the do-not-call list, "
                      f"flow {campaign.spec.flow})")
        for p in problems:
            print(p)
        bad += bool(problems)
    return 1 if bad else 0


def _start(value: str | None) -> float:
    import datetime as dt
    import time
    from zoneinfo import ZoneInfo

    if value is None:
        return time.time()
    try:
        t = dt.datetime.fromisoformat(value)
    except ValueError:
        raise IvrError(f"--start {value!r} is not an ISO 8601 time (2026-12-01T09:00)", "ivr campaign run") from None
    return (t if t.tzinfo else t.replace(tzinfo=ZoneInfo("Asia/Taipei"))).timestamp()


def run_run(args: argparse.Namespace) -> int:
    import asyncio

    from ivr.outbound import CampaignRun, load_campaign, read_contacts

    campaign = load_campaign(args.file)
    contacts = read_contacts(campaign.list_path)
    if args.dialer == "sip":
        import importlib

        dialer_cls = getattr(importlib.import_module("ivr.transports.sip"), "SipDialer", None)
        if dialer_cls is None:
            raise IvrError("the SIP dialer is not installed yet (ivr.transports.sip.SipDialer); "
                           "rehearse with --dialer sim", "ivr campaign run")
        raise IvrError("--dialer sip: wiring the SIP dialer into campaigns is not done yet", "ivr campaign run")
    from ivr.clock import VirtualClock
    from ivr.outbound.simulate import drive, random_dialer

    clock = VirtualClock()
    run = CampaignRun(campaign, contacts, random_dialer(clock, args.seed), clock, epoch=_start(args.start))
    report = asyncio.run(drive(clock, run.run()))
    t = report.totals
    print(f"campaign {report.campaign}: {t['contacts']} contacts, {report.dials} dials, attempted {t['attempted']}, "
          f"reached {t['reached']}, promised to pay {t['promised_to_pay']}, transferred {t['transferred']}, "
          f"DNC {t['dnc']}, voicemail {t['voicemail']}, gave up {t['max_attempts']}; "
          f"{clock.now() / 3600:.1f} h of (virtual) campaign time")
    if args.report:
        from pathlib import Path

        Path(args.report).write_text(json.dumps({"campaign": report.campaign, "totals": t, "dials": report.dials,
                                                 "contacts": report.contacts}, ensure_ascii=False, indent=1) + "\n",
                                     encoding="utf-8")
        print(f"report: {args.report}", file=sys.stderr)
    return 0
