"""``ivr campaign validate|run|start|pause|status|report``: outbound campaigns.

``validate`` checks a campaign file and the files it names (list, holidays,
do-not-call) and prints every problem as ``file:line: message`` (exit 1).
``run`` dials the list: ``--dialer sim`` rehearses the whole campaign on a
virtual clock (callees answer, ring out, are busy or reach voicemail at
random, seeded) to show its schedule and results in seconds; ``--dialer sip``
dials for real through the SIP trunk (answering-machine detection at pickup,
the campaign's flow for a person, its voicemail message for a machine).
``start`` is ``run`` with the progress kept (``campaigns.sqlite3`` beside the
caller history): ``pause NAME`` stops it between calls, ``start`` again
resumes it, ``status`` and ``report NAME`` read it (numbers masked)."""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from ivr.errors import IvrError

if TYPE_CHECKING:
    from ivr.clock import Clock
    from ivr.outbound import CampaignRun
    from ivr.outbound.campaign import Campaign
    from ivr.outbound.contacts import CampaignContact
    from ivr.outbound.dialer import Dialer
    from ivr.outbound.scheduler import Attempt, CampaignReport
    from ivr.outbound.state import CampaignState


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("campaign", help="outbound campaigns: validate a campaign file, run it",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="campaign_command", metavar="ACTION")
    v = sub.add_parser("validate", help="check campaign files; print file:line errors")
    v.add_argument("files", nargs="+", help="campaign YAML files")
    v.set_defaults(func=run_validate)
    r = sub.add_parser("run", help="dial a campaign's list (nothing kept: a rehearsal or a one-off)")
    _dial_options(r)
    r.add_argument("--report", default=None, help="write the per-contact report (JSON) here")
    r.set_defaults(func=run_run)
    st = sub.add_parser("start", help="run or resume a campaign, its progress kept in the state database")
    _dial_options(st)
    st.add_argument("--state", default=None, help="campaign state database (default: campaigns.sqlite3 beside "
                                                   "the caller history, or $IVR_CAMPAIGN_DB)")
    st.set_defaults(func=run_start)
    for name, fn, what in (("pause", run_pause, "pause a running campaign (calls in progress finish)"),
                           ("status", run_status, "each campaign's status and progress"),
                           ("report", run_report, "a campaign's results, numbers masked")):
        c = sub.add_parser(name, help=what)
        c.add_argument("name", nargs="?" if name == "status" else None, help="the campaign's name (its 'campaign:')")
        c.add_argument("--state", default=None, help="campaign state database")
        c.add_argument("--bank", default=None, help="demo bank SQLite file (the state sits beside its history)")
        if name == "report":
            c.add_argument("--json", action="store_true", help="the report as JSON")
        c.set_defaults(func=fn)
    p.set_defaults(func=lambda args: (p.print_help(), 0)[1])


def _dial_options(r: argparse.ArgumentParser) -> None:
    r.add_argument("file", help="campaign YAML file")
    r.add_argument("--dialer", choices=("sim", "sip"), default="sim",
                   help="sim: rehearse on a virtual clock (default); sip: dial for real")
    r.add_argument("--start", default=None, help="sim: wall time to start, ISO 8601 (default: now), Asia/Taipei "
                                                 "when no offset is given")
    r.add_argument("--seed", type=int, default=1, help="sim: random seed of the callees")
    sip = r.add_argument_group("--dialer sip")
    sip.add_argument("--trunk", default=None, help="callee URI with {number}, e.g. sip:{number}@10.0.0.1:5060 "
                                                   "(default: the campaign's trunk)")
    sip.add_argument("--local", default="127.0.0.1:0", metavar="HOST:PORT", help="our SIP address")
    sip.add_argument("--sip-transport", choices=("udp", "tcp"), default=None,
                     help="SIP over UDP or TCP (default: the campaign's sip_transport, else udp)")
    sip.add_argument("--flows", default=None, help="flows directory (default: ./flows if present, else the shipped)")
    sip.add_argument("--records", default="var/calls.sqlite3", help="call record database or URL")
    sip.add_argument("--queue", default=None, help="handoff store URL ('none' = none)")
    sip.add_argument("--engine", default=None, help="one speech engine for every language")
    sip.add_argument("--bank", default=None, help="demo bank SQLite file")
    sip.add_argument("--tts", default=None, help="prompt voice: kokoro (default), espeak, pyttsx3")


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


async def _run_sip(args: argparse.Namespace, campaign: Campaign, trunk: str,
                   make_run: Callable[[Dialer], CampaignRun]) -> CampaignReport:
    """The campaign over SIP: the flows and stores of ``ivr dial``, one SIP socket for every call."""
    from ivr.backends import BackendRegistry
    from ivr.cli.run import engine_selector
    from ivr.outbound.actions import CampaignCalls
    from ivr.outbound.sip_dialer import SipCampaignDialer
    from ivr.session.factory import build_services
    from ivr.transports.server import parse_hostport
    from ivr.transports.sip import SipDialer, SipOptions, SipServer

    host, port = parse_hostport(args.local, "--local")
    media = host if host not in ("", "0.0.0.0") else "127.0.0.1"
    spec = campaign.spec
    services = build_services(args.flows, flow=spec.flow, records_path=args.records, handoff_url=args.queue,
                              bank_path=args.bank, tts=args.tts, engines=engine_selector(args.engine, True))
    try:
        calls = CampaignCalls()
        registry = getattr(services.backends, "__self__", None)
        if isinstance(registry, BackendRegistry):
            calls.register(registry)  # the flows' campaign_contact reads the rows this dialer registers
        services.engines.preload()
        server = SipServer(services.for_transport(), services.clock, services.metrics,
                           options=SipOptions(media_host=media, max_calls=spec.pacing.max_in_flight,
                                              transport=getattr(args, "sip_transport", None) or spec.sip_transport))
        await server.start(host, port)
        try:
            dialer = SipCampaignDialer(SipDialer(server), services, calls, trunk, ring_seconds=spec.ring_seconds,
                                       voicemail={str(k): v for k, v in spec.voicemail_message.items()},
                                       language=spec.language,
                                       abandon_seconds=spec.progressive.abandon_seconds if spec.progressive else None)
            return await make_run(dialer).run()
        finally:
            await server.stop()
    finally:
        services.close()


def _execute(args: argparse.Namespace, campaign: Campaign, contacts: list[CampaignContact],
             state: CampaignState | None = None) -> tuple[CampaignReport, float, bool]:
    """Dial the campaign (``args.dialer``); with ``state``, resume from it, keep it and obey a pause.
    Returns (report, hours of campaign time, stopped by a pause)."""
    import asyncio

    from ivr.outbound import CampaignRun

    def make(dialer: Dialer, clock: Clock, epoch: float, poll: float | None,
             on_attempt: Callable[[Attempt], object] | None = None) -> CampaignRun:
        run = CampaignRun(campaign, contacts, dialer, clock, epoch=epoch, on_attempt=on_attempt,
                          on_progress=None if state is None else lambda p: state.save(campaign.name, p),
                          should_stop=None if state is None else lambda: state.status(campaign.name) == "paused",
                          poll_every=poll)
        if state is not None:
            run.restore(state.load(campaign.name))
        runs.append(run)
        return run

    runs: list[CampaignRun] = []
    if args.dialer == "sip":
        import time

        from ivr.clock import RealClock
        from ivr.history import CallerHistory, default_history_store
        from ivr.outbound.sip_dialer import history_recorder

        trunk = args.trunk or campaign.spec.trunk
        if not trunk:
            raise IvrError("--dialer sip needs a trunk: 'trunk: sip:{number}@HOST:PORT' in the campaign or --trunk",
                           f"ivr campaign {args.campaign_command} {args.file}")
        real = RealClock()
        history = CallerHistory.open(default_history_store(args.bank))
        try:
            report = asyncio.run(_run_sip(args, campaign, trunk, lambda d: make(
                d, real, time.time() - real.now(), 1.0, history_recorder(history, campaign.name, contacts))))
        finally:
            history.close()
        hours = real.now() / 3600
    else:
        from ivr.clock import VirtualClock
        from ivr.outbound.simulate import drive, random_dialer

        clock = VirtualClock()
        report = asyncio.run(drive(clock, make(random_dialer(clock, args.seed), clock, _start(args.start),
                                               None).run()))
        hours = clock.now() / 3600
    return report, hours, runs[0].stopped


def run_run(args: argparse.Namespace) -> int:
    from ivr.outbound import load_campaign, read_contacts

    campaign = load_campaign(args.file)
    report, hours, _ = _execute(args, campaign, read_contacts(campaign.list_path))
    _print_totals(report, hours, args.dialer == "sim")
    if args.report:
        from pathlib import Path

        Path(args.report).write_text(json.dumps({"campaign": report.campaign, "totals": report.totals,
                                                 "dials": report.dials, "contacts": report.contacts},
                                                ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"report: {args.report}", file=sys.stderr)
    return 0


def _print_totals(report: CampaignReport, hours: float, virtual: bool) -> None:
    t = report.totals
    print(f"campaign {report.campaign}: {t['contacts']} contacts, {report.dials} dials, attempted {t['attempted']}, "
          f"reached {t['reached']}, promised to pay {t['promised_to_pay']}, transferred {t['transferred']}, "
          f"DNC {t['dnc']}, voicemail {t['voicemail']}, gave up {t['max_attempts']}, abandoned {t['abandoned']}; "
          f"{hours:.1f} h of {'(virtual) ' if virtual else ''}campaign time")


# -- start | pause | status | report: campaigns kept in the state database ---------------------------
def _state(args: argparse.Namespace) -> CampaignState:
    from ivr.history import default_history_path
    from ivr.outbound.state import CampaignState, default_state_path

    return CampaignState(args.state or default_state_path(default_history_path(getattr(args, "bank", None))))


def run_start(args: argparse.Namespace) -> int:
    """Run (or resume) a campaign, keeping its progress; exits 0 when done, 3 when paused."""
    from ivr.outbound import load_campaign, read_contacts

    campaign = load_campaign(args.file)
    contacts = read_contacts(campaign.list_path)
    state = _state(args)
    try:
        progressive = campaign.spec.progressive
        state.set_status(campaign.name, "running", str(campaign.path), contacts=len(contacts),
                         ceiling=progressive.abandon_ceiling if progressive else None)
        report, hours, stopped = _execute(args, campaign, contacts, state)
        pending = report.totals["pending"]
        state.set_status(campaign.name, "paused" if stopped or pending else "done")
    finally:
        state.close()
    _print_totals(report, hours, args.dialer == "sim")
    if stopped:
        print(f"campaign {campaign.name} paused: {pending} contacts left; 'ivr campaign start' resumes it")
        return 3
    return 0


def run_pause(args: argparse.Namespace) -> int:
    state = _state(args)
    try:
        if state.status(args.name) is None:
            raise IvrError(f"no campaign {args.name!r} in the state database", str(state.path))
        state.set_status(args.name, "paused")
    finally:
        state.close()
    print(f"campaign {args.name}: paused (calls in progress finish; 'ivr campaign start FILE' resumes)")
    return 0


def run_status(args: argparse.Namespace) -> int:
    state = _state(args)
    try:
        names = [args.name] if args.name else [n for n, _, _ in state.campaigns()]
        if args.name and state.status(args.name) is None:
            raise IvrError(f"no campaign {args.name!r} in the state database", str(state.path))
        for n in names:
            t = state.report(n)["totals"]
            print(f"{n}: {state.status(n)}; {t['attempts']} attempts, {t['contacted']} contacted, "
                  f"{t['promised_to_pay']} promised to pay, {t['dnc_skipped']} DNC skipped, "
                  f"abandoned {100 * t['abandoned_rate']:.1f} %")
    finally:
        state.close()
    return 0


def run_report(args: argparse.Namespace) -> int:
    state = _state(args)
    try:
        if state.status(args.name) is None:
            raise IvrError(f"no campaign {args.name!r} in the state database", str(state.path))
        doc = state.report(args.name)
    finally:
        state.close()
    if args.json:
        print(json.dumps(doc, ensure_ascii=False, indent=1))
        return 0
    t = doc["totals"]
    print(f"campaign {doc['campaign']} ({doc['status']})\n"
          f"  attempts {t['attempts']}, contacts {t['contacts']}, contacted {t['contacted']}, "
          f"right party {t['right_party']}\n"
          f"  promised to pay {t['promised_to_pay']} (NT${t['amount_promised']:,.0f} of NT${t['amount_due']:,.0f} due)"
          f", transferred {t['transferred']}\n"
          f"  voicemails {t['voicemails']}, DNC skipped {t['dnc_skipped']}, "
          f"abandoned {t['abandoned']}/{t['answered']} answered ({100 * t['abandoned_rate']:.1f} %)")
    for c in doc["contacts"]:
        print(f"  {c['id']} {c['number']} {c['final']} ({c['attempts']} attempts: {', '.join(c['outcomes'])})")
    return 0
