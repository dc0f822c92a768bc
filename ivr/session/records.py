"""Call records: what happened on every call, written as it happens.

One SQLite database (WAL) holds a ``calls`` row per call and an ``events`` row
per turn, prompt, action and transfer. Every event is committed when it is
added, so a crashed worker loses nothing already said; a call whose row never
got an end time is visibly unfinished (``outcome`` NULL). Optionally the audio
of both sides is kept as WAV files next to the database.
"""
from __future__ import annotations

import json
import sqlite3
import threading
import wave
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ivr.errors import IvrError
from ivr.log import get_logger
from ivr.paths import cache_home
from ivr.redact import redact_obj
from ivr.session.owner import is_dead
from ivr.session.owner import token as owner_token

log = get_logger(__name__)

# "interrupted": the worker died mid-call (closed at the next start-up, see close_interrupted)
OUTCOMES = ("self_served", "handed_off", "abandoned", "failed", "interrupted")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (
    call_id TEXT PRIMARY KEY,
    transport TEXT NOT NULL DEFAULT '',
    caller TEXT NOT NULL DEFAULT '',
    language TEXT NOT NULL DEFAULT '',
    started_wall REAL NOT NULL,
    ended_wall REAL,
    duration REAL,
    outcome TEXT,
    end_reason TEXT,
    caller_audio TEXT,
    bot_audio TEXT,
    owner TEXT
);
CREATE TABLE IF NOT EXISTS events (
    call_id TEXT NOT NULL REFERENCES calls(call_id),
    seq INTEGER NOT NULL,
    t REAL NOT NULL,
    kind TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (call_id, seq)
);
"""


class RecordStoreError(IvrError):
    """The call record database cannot be opened or written."""


@dataclass
class CallRecord:
    """One call as the session saw it. ``events`` hold dicts with ``kind`` in
    turn | prompt | action | transfer | hold | note and ``t`` (call seconds)."""

    call_id: str
    transport: str = ""
    caller: str = ""
    language: str = ""
    started_wall: float = 0.0
    ended_wall: float | None = None
    duration: float | None = None
    outcome: str | None = None
    end_reason: str | None = None
    caller_audio: str | None = None
    bot_audio: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["kind"] == kind]

    @property
    def turns(self) -> list[dict[str, Any]]:
        return self.of_kind("turn")

    @property
    def prompts(self) -> list[dict[str, Any]]:
        return self.of_kind("prompt")

    @property
    def actions(self) -> list[dict[str, Any]]:
        return self.of_kind("action")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class RecordStore(Protocol):
    """Where a call's record goes as the call runs (``RecordWriter`` is its
    only writer): the record's header at the start, each event as it happens,
    the outcome at the end, and where to put the call's audio when kept."""

    @property
    def keep_audio(self) -> bool: ...

    def begin(self, record: CallRecord) -> str:
        """Start the record; returns the call id it is stored under (set on ``record``)."""
        ...

    def add_event(self, call_id: str, event: dict[str, Any]) -> None: ...

    def finish(self, record: CallRecord) -> None: ...

    def audio_path(self, call_id: str, side: str) -> Path | None:
        """Where one side's WAV goes; ``None`` when audio is not kept."""
        ...


class CallRecordStore:
    """SQLite call records (a ``RecordStore``). Safe to share between the calls of one process
    (one connection, serialised by a lock; each write is one short commit).

    ``redact=True`` (default) masks personal data (IDs, card/account/phone
    numbers) in everything stored, like the logs; set it False only for a
    store that is itself access-controlled.
    """

    def __init__(self, path: str | Path = ":memory:", *, redact: bool = True, keep_audio: bool = False) -> None:
        self.path = str(path)
        self.redact = redact
        self.keep_audio = keep_audio and self.path != ":memory:"
        self._lock = threading.Lock()
        self._seq: dict[str, int] = {}
        self._owner = owner_token()
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            if "owner" not in {r[1] for r in self._db.execute("PRAGMA table_info(calls)")}:
                self._db.execute("ALTER TABLE calls ADD COLUMN owner TEXT")  # a database from before owners
        except sqlite3.Error as e:
            raise RecordStoreError(f"cannot open call records: {e}", self.path) from e

    # -- writing ----------------------------------------------------------
    def _clean(self, obj: Any) -> Any:
        return redact_obj(obj) if self.redact else obj

    def _exec(self, sql: str, args: tuple) -> None:
        try:
            with self._lock:
                self._db.execute(sql, args)
        except sqlite3.Error as e:
            raise RecordStoreError(f"cannot write call record: {e}", self.path) from e

    def begin(self, record: CallRecord) -> str:
        """Add the call's row. A call id already recorded (Asterisk dialplans
        with a fixed UUID, a Twilio reconnect reusing its callSid) gets the
        next free ``<id>-a2``, ``-a3``…: the earlier record is never touched.
        Sets and returns ``record.call_id``."""
        base, n = record.call_id, 1
        while True:
            try:
                with self._lock:
                    self._db.execute(
                        "INSERT INTO calls (call_id, transport, caller, language, started_wall, owner) "
                        "VALUES (?,?,?,?,?,?)",
                        (record.call_id, record.transport, self._clean(record.caller), record.language,
                         record.started_wall, self._owner))
                break
            except sqlite3.IntegrityError:
                n += 1
                record.call_id = f"{base}-a{n}"
            except sqlite3.Error as e:
                raise RecordStoreError(f"cannot write call record: {e}", self.path) from e
        self._seq[record.call_id] = 0
        return record.call_id

    def close_interrupted(self) -> list[tuple[str, list[str]]]:
        """Close the records of calls whose worker died mid-call (outcome
        ``interrupted``); returns ``(call_id, handoff tickets it queued)`` for
        each, so the caller of this can withdraw those tickets. Calls of live
        workers (this process included) are left alone."""
        with self._lock:
            rows = self._db.execute("SELECT call_id, owner, started_wall FROM calls WHERE outcome IS NULL").fetchall()
        out: list[tuple[str, list[str]]] = []
        for call_id, owner, started in rows:
            if owner == self._owner or not is_dead(owner):
                continue
            with self._lock:
                evs = self._db.execute("SELECT t, kind, data FROM events WHERE call_id=? ORDER BY seq",
                                       (call_id,)).fetchall()
                last_t = max((t for t, _, _ in evs), default=0.0)
                self._db.execute(
                    "UPDATE calls SET ended_wall=?, duration=?, outcome='interrupted', end_reason='worker_died' "
                    "WHERE call_id=? AND outcome IS NULL", (started + last_t, round(last_t, 3), call_id))
            tickets = [str(json.loads(d).get("ticket")) for _, kind, d in evs
                       if kind == "transfer" and json.loads(d).get("ticket")]
            out.append((call_id, tickets))
        return out

    def add_event(self, call_id: str, event: dict[str, Any]) -> None:
        seq = self._seq.get(call_id, 0)
        self._seq[call_id] = seq + 1
        data = {k: v for k, v in event.items() if k not in ("kind", "t")}
        self._exec(
            "INSERT INTO events (call_id, seq, t, kind, data) VALUES (?,?,?,?,?)",
            (call_id, seq, float(event.get("t", 0.0)), event["kind"],
             json.dumps(self._clean(data), ensure_ascii=False, default=str)),
        )

    def finish(self, record: CallRecord) -> None:
        if record.outcome not in OUTCOMES:
            raise ValueError(f"call record {record.call_id}: outcome {record.outcome!r} not in {OUTCOMES}")
        self._exec(
            "UPDATE calls SET ended_wall=?, duration=?, outcome=?, end_reason=?, language=?, caller_audio=?, "
            "bot_audio=? WHERE call_id=?",
            (record.ended_wall, record.duration, record.outcome, record.end_reason, record.language,
             record.caller_audio, record.bot_audio, record.call_id),
        )
        self._seq.pop(record.call_id, None)

    def audio_path(self, call_id: str, side: str) -> Path | None:
        """Where the WAV of one side of a call goes (``None`` when audio is not kept)."""
        if not self.keep_audio:
            return None
        safe = "".join(c for c in call_id if c.isalnum() or c in "-_") or "call"
        d = Path(self.path).with_suffix("").parent / (Path(self.path).stem + "-audio")
        d.mkdir(parents=True, exist_ok=True)
        return d / f"{safe}-{side}.wav"

    # -- reading ----------------------------------------------------------
    def get(self, call_id: str) -> CallRecord | None:
        with self._lock:
            row = self._db.execute(
                "SELECT call_id, transport, caller, language, started_wall, ended_wall, duration, outcome, end_reason, "
                "caller_audio, bot_audio FROM calls WHERE call_id=?", (call_id,)).fetchone()
            if row is None:
                return None
            evs = self._db.execute("SELECT t, kind, data FROM events WHERE call_id=? ORDER BY seq",
                                   (call_id,)).fetchall()
        rec = CallRecord(*row)
        rec.events = [{"kind": k, "t": t, **json.loads(d)} for t, k, d in evs]
        return rec

    def call_ids(self) -> list[str]:
        with self._lock:
            return [r[0] for r in self._db.execute("SELECT call_id FROM calls ORDER BY started_wall, rowid")]

    def __iter__(self) -> Iterator[CallRecord]:
        for cid in self.call_ids():
            rec = self.get(cid)
            if rec is not None:
                yield rec

    def counts(self) -> dict[str, int]:
        """Calls per outcome (``unfinished`` for rows without one)."""
        with self._lock:
            rows = self._db.execute("SELECT COALESCE(outcome, 'unfinished'), COUNT(*) FROM calls GROUP BY 1").fetchall()
        return dict(rows)

    def close(self) -> None:
        with self._lock:
            self._db.close()


class AudioTrack:
    """One side of a call written to a WAV as it streams (16-bit mono).

    The header is rewritten on close; a crash leaves a WAV whose header
    undercounts, which readers that trust the file size still play."""

    def __init__(self, path: Path, sample_rate: int) -> None:
        self.path = path
        self._w = wave.open(str(path), "wb")  # noqa: SIM115  open for the whole call
        self._w.setnchannels(1)
        self._w.setsampwidth(2)
        self._w.setframerate(sample_rate)
        self.sample_rate = sample_rate
        self.samples = 0

    def write_at(self, pcm: bytes, t: float) -> None:
        """Write ``pcm`` so that it starts at call time ``t``, padding with
        silence: both sides then line up when played together."""
        gap = round(t * self.sample_rate) - self.samples
        if gap > 0:
            self._w.writeframesraw(b"\x00\x00" * gap)
            self.samples += gap
        self._w.writeframesraw(pcm)
        self.samples += len(pcm) // 2

    def close(self) -> None:
        self._w.close()


class RecordWriter:
    """The session's pen for one call: events go to the in-memory record and
    the store at once; audio of either side streams to its WAV.

    A store that fails (disk full, database locked or gone) never reaches the
    caller: writes wait in order in memory and are retried with the next one;
    the failure is logged once with a count, not per event. A record still not
    stored when the call ends is written whole to a spool file beside the
    store (``spool/<call id>.json``), so nothing is lost."""

    def __init__(self, store: RecordStore, record: CallRecord) -> None:
        self.store = store
        self.record = record
        self._tracks: dict[str, AudioTrack] = {}
        self._backlog: list[Callable[[], object]] = []
        self._failed = 0
        self.spooled: Path | None = None
        self._write(lambda: store.begin(record))

    def _write(self, op: Callable[[], object]) -> None:
        self._backlog.append(op)
        while self._backlog:
            try:
                self._backlog[0]()
            except Exception as e:  # any store failure: the call goes on, the write waits
                self._failed += 1
                if self._failed == 1:
                    log.error("call records unavailable (%s): call %s keeps its record in memory",
                              str(e).splitlines()[0][:200], self.record.call_id)
                return
            self._backlog.pop(0)
            if self._failed:
                log.warning("call records back after %d failed write(s); call %s caught up",
                            self._failed, self.record.call_id)
                self._failed = 0

    def event(self, kind: str, t: float, **data: Any) -> None:
        ev = {"kind": kind, "t": round(t, 3), **data}
        self.record.events.append(ev)
        # the id is read when the write happens: begin() may have renamed a repeated id
        self._write(lambda: self.store.add_event(self.record.call_id, ev))

    def audio(self, side: str, pcm: bytes, t: float, sample_rate: int) -> None:
        """``side`` is caller | bot."""
        if not self.store.keep_audio:
            return
        tr = self._tracks.get(side)
        if tr is None:
            path = self.store.audio_path(self.record.call_id, side)
            assert path is not None  # keep_audio is on
            tr = self._tracks[side] = AudioTrack(path, sample_rate)
            setattr(self.record, f"{side}_audio", str(path))
        tr.write_at(pcm, t)

    def finish(self, outcome: str, reason: str, duration: float, language: str) -> CallRecord:
        import time

        for tr in self._tracks.values():
            tr.close()
        rec = self.record
        rec.ended_wall, rec.duration = time.time(), round(duration, 3)
        rec.outcome, rec.end_reason, rec.language = outcome, reason, language
        self._write(lambda: self.store.finish(rec))
        if self._backlog:
            self.spooled = self._spool(rec)
        return rec

    def _spool(self, rec: CallRecord) -> Path | None:
        where = getattr(self.store, "path", None)
        base = Path(where).parent if where and where != ":memory:" else cache_home()
        path = base / "spool" / f"{_safe_file_name(rec.call_id)}.json"
        redact = getattr(self.store, "redact", True)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            doc = redact_obj(rec.to_dict()) if redact else rec.to_dict()
            path.write_text(json.dumps(doc, ensure_ascii=False, default=str), encoding="utf-8")
        except OSError as e:
            log.error("call %s: record not stored and not spooled (%s)", rec.call_id, e)
            return None
        log.error("call %s: records unavailable to the end; record spooled to %s", rec.call_id, path)
        return path


def _safe_file_name(call_id: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in call_id)[:120] or "call"
