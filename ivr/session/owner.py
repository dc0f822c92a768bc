"""Which process owns an open call record, and whether it is still alive.

A record whose call never ended is either a live call of a running worker
or the remains of one that crashed (kill -9, power loss). The owner token is
``host|boot id|pid|process start time``: on the same host and boot, a pid
that no longer runs — or now runs a different process (pid reuse; its start
time differs) — owns nothing any more."""
from __future__ import annotations

import os
import socket
from pathlib import Path


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return "-"


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (None: no such process)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        if Path("/proc/self/stat").exists():
            return None  # /proc works, this pid is gone
        try:  # no /proc (not Linux): existence is all we can tell
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return "?"
    # the command name (field 2) may hold spaces and parentheses: fields follow the last ')'
    return stat[stat.rindex(")") + 2:].split()[19]


def token(pid: int | None = None) -> str:
    pid = os.getpid() if pid is None else pid
    return f"{socket.gethostname()}|{_boot_id()}|{pid}|{_start_time(pid) or '?'}"


def is_dead(owner: str | None) -> bool:
    """True when ``owner`` surely no longer runs; a token of another host (or
    an unreadable one) is never declared dead from here."""
    if not owner:
        return True  # a row from before owners were recorded: nobody can still be writing it
    try:
        host, boot, pid_s, start = owner.split("|")
        pid = int(pid_s)
    except ValueError:
        return False
    if host != socket.gethostname():
        return False
    if boot != _boot_id():
        return True  # the machine rebooted since
    now = _start_time(pid)
    return now is None or (start != "?" and now != "?" and now != start)
