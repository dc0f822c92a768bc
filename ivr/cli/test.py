"""``ivr test``: replay scenario files (recorded callers) against the flows."""
from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "test",
        help="replay recorded callers (scenario files) against the flows",
        description="Run every scenario under PATHS through the real call session on a virtual clock. "
                    "Exit 0 when all pass, 1 on any failure, 2 on unreadable input.",
    )
    p.add_argument("paths", nargs="*", default=["audio_fixtures"],
                   help="scenario files or directories (default: audio_fixtures)")
    p.add_argument("-k", dest="pattern", default=None, help="only scenarios whose name, file or tags contain this")
    p.add_argument("--junit", type=Path, default=None, help="write JUnit XML here (for CI)")
    p.add_argument("--html", type=Path, default=None, help="write a self-contained HTML report here")
    p.add_argument("--link-audio", action="store_true", help="HTML links caller audio files instead of embedding them")
    p.add_argument("--flows", type=Path, default=None, help="flows directory (default: ./flows)")
    p.add_argument("--engine", default=None,
                   help="force one speech engine for every scenario (whisper, sphinx, vosk, text)")
    p.add_argument("--tts", default="espeak",
                   help="prompt voice (default espeak: prompts are only timed in QA and it renders in milliseconds; "
                        "kokoro = the production voice, slower)")
    p.add_argument("--keep-records", type=Path, default=None, metavar="DB",
                   help="keep each call's record and audio in this SQLite file (input for 'ivr record')")
    p.add_argument("--json", type=Path, default=None, metavar="FILE",
                   help="write every scenario's verdict, transcripts and intents as JSON here ('-' = stdout)")
    p.add_argument("--twice", action="store_true",
                   help="replay every scenario a second time and fail if any transcript, intent, latency or "
                        "verdict differs (replay is deterministic: a difference is a bug to report)")
    p.add_argument("--list", action="store_true", help="list the scenarios and exit")
    p.add_argument("--allow-audio", action="append", type=Path, default=[], metavar="DIR",
                   help="a directory outside the fixtures tree that scenarios may read audio from (repeatable; "
                        "see also allow_audio in _fixtures.yaml)")
    p.add_argument("--max-audio-mb", type=float, default=100.0,
                   help="largest audio file a scenario may name, in MB (default 100)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from ivr.qa import RunOptions, load_scenarios, replay_differences, run_scenarios, write_html, write_junit

    if args.log_level == "warning":
        # One "no Taiwanese voice" warning per prompt is news to an operator,
        # noise in a QA run of 50 calls; --log-level info shows them again.
        import logging

        logging.getLogger("ivr.prompts").setLevel(logging.ERROR)
    to_stderr = str(args.json) == "-"  # stdout carries the JSON then
    console = Console(stderr=to_stderr, highlight=False)
    if not console.is_terminal:  # CI logs: wide enough that scenario names are not cut
        console = Console(stderr=to_stderr, highlight=False, width=max(console.width, 140))
    from ivr.qa.paths import AudioPolicy

    policy = AudioPolicy(tuple(args.allow_audio), int(args.max_audio_mb * 2**20))
    scenarios = load_scenarios(args.paths, args.pattern, policy)
    if args.list:
        for s in scenarios:
            console.print(f"{s.name}  [dim]{s.path}  {s.language}  {', '.join(s.tags)}[/dim]")
        return 0
    if not scenarios:
        console.print(f"[yellow]no scenarios found in {' '.join(map(str, args.paths))}"
                      + (f" matching -k {args.pattern}" if args.pattern else "") + "[/yellow]")
        return 1 if args.pattern else 2

    if os.environ.get("OMP_NUM_THREADS"):
        # Whisper's int8 results depend on its thread count (README: For QA): say so before a
        # run whose transcripts may differ from the team's reference run
        console.print(f"[yellow]OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']} is set: Whisper decodes with that many "
                      "threads, and a few transcripts can differ from a run without it (unset it to replay as "
                      "the fixtures were made)[/yellow]")
    styles = {"passed": "green", "failed": "red", "error": "red", "skipped": "yellow"}
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        task = progress.add_task("scenarios", total=len(scenarios))

        def started(sc) -> None:
            progress.update(task, description=f"[bold]{sc.name}[/bold]")

        def finished(r) -> None:
            mark = {"passed": "✓", "failed": "✗", "error": "!", "skipped": "-"}[r.status]
            call = f" call {r.call_id}" if args.keep_records and r.call_id else ""
            progress.console.print(
                f"[{styles[r.status]}]{mark}[/] {r.scenario.name} [dim]{r.wall_seconds:.1f}s{call}[/dim]")
            for f in (r.all_failures if r.status == "failed" else [r.message] if r.message else [])[:6]:
                progress.console.print(f"    [dim]{f}[/dim]")
            progress.advance(task)

        opts = RunOptions(flows_dir=args.flows, engine=args.engine, tts=args.tts, on_start=started, on_result=finished,
                          records_db=args.keep_records)
        summary = run_scenarios(scenarios, opts)
        differences: list[str] = []
        if args.twice:
            progress.reset(task, description="second replay")
            # the same options, engines loaded afresh (a new Resources), no second set of records
            again = run_scenarios(scenarios, replace(opts, on_result=lambda r: progress.advance(task), records_db=None))
            differences = replay_differences(summary, again)

    table = Table(title="ivr test", show_lines=False)
    for col in ("scenario", "lang", "result", "turns", "outcome", "queue", "mean latency", "time"):
        table.add_column(col, justify="right" if col in ("turns", "mean latency", "time") else "left",
                         no_wrap=col == "scenario")
    for r in summary.results:
        lat = [t.latency_ms for t in r.turns if t.latency_ms is not None]
        table.add_row(r.scenario.name, r.scenario.language, f"[{styles[r.status]}]{r.status}[/]",
                      str(len(r.scenario.turns)), r.outcome or "-", r.handoff_queue or "-",
                      f"{sum(lat) / len(lat):.0f} ms" if lat else "-",
                      f"{r.wall_seconds:.1f}s")
    console.print(table)
    counts = {s: summary.count(s) for s in ("passed", "failed", "error", "skipped")}
    line = ", ".join(f"[{styles[k]}]{v} {k}[/]" for k, v in counts.items() if v or k == "passed")
    console.print(f"{line} in {summary.wall_seconds:.1f} s")
    for r in summary.results:
        if r.status == "skipped":
            console.print(f"[yellow]skipped[/] {r.scenario.name}: {r.message}")
    if args.junit:
        console.print(f"JUnit XML: {write_junit(summary, args.junit)}")
    if args.html:
        console.print(f"HTML report: {write_html(summary, args.html, embed_audio=not args.link_audio)}")
    if args.json:
        import json

        from ivr.qa.results import summary_dict

        doc = json.dumps(summary_dict(summary), ensure_ascii=False, indent=1)
        if str(args.json) == "-":
            print(doc)
        else:
            args.json.write_text(doc + "\n", encoding="utf-8")
            console.print(f"JSON: {args.json}")
    if args.twice:
        if differences:
            console.print(f"[red]the second replay differed in {len(differences)} scenario(s):[/]")
            for d in differences:
                console.print(f"    {d}")
        else:
            console.print(f"replayed twice: the same transcripts, intents, latencies and verdicts in all "
                          f"{len(summary.results)} scenarios")
    sys.stdout.flush()
    if any(r.input_error for r in summary.results):
        return 2
    return 0 if summary.ok and not differences else 1
