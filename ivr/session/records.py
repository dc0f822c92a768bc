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
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterator

from ivr.errors import IvrError
from ivr.redact import redact_obj

OUTCOMES = ("self_served", "handed_off", "abandoned", "failed")

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
    bot_audio TEXT
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


class CallRecordStore:
    """SQLite call records. Safe to share between the calls of one process
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
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
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

    def begin(self, record: CallRecord) -> None:
        self._seq[record.call_id] = 0
        self._exec(
            "INSERT OR REPLACE INTO calls (call_id, transport, caller, language, started_wall) VALUES (?,?,?,?,?)",
            (record.call_id, record.transport, self._clean(record.caller), record.language, record.started_wall),
        )

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
            "UPDATE calls SET ended_wall=?, duration=?, outcome=?, end_reason=?, language=?, caller_audio=?, bot_audio=? "
            "WHERE call_id=?",
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
            evs = self._db.execute("SELECT t, kind, data FROM events WHERE call_id=? ORDER BY seq", (call_id,)).fetchall()
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
        self._w = wave.open(str(path), "wb")
        self._w.setnchannels(1)
        self._w.setsampwidth(2)
        self._w.setframerate(sample_rate)
        self.sample_rate = sample_rate
        self.samples = 0

    def write_at(self, pcm: bytes, t: float) -> None:
        """Write ``pcm`` so that it starts at call time ``t``, padding with
        silence: both sides then line up when played together."""
        gap = int(round(t * self.sample_rate)) - self.samples
        if gap > 0:
            self._w.writeframesraw(b"\x00\x00" * gap)
            self.samples += gap
        self._w.writeframesraw(pcm)
        self.samples += len(pcm) // 2

    def close(self) -> None:
        self._w.close()


class RecordWriter:
    """The session's pen for one call: events go to the in-memory record and
    the store at once; audio of either side streams to its WAV."""

    def __init__(self, store: CallRecordStore, record: CallRecord) -> None:
        self.store = store
        self.record = record
        self._tracks: dict[str, AudioTrack] = {}
        store.begin(record)

    def event(self, kind: str, t: float, **data: Any) -> None:
        ev = {"kind": kind, "t": round(t, 3), **data}
        self.record.events.append(ev)
        self.store.add_event(self.record.call_id, ev)

    def audio(self, side: str, pcm: bytes, t: float, sample_rate: int) -> None:
        """``side`` is caller | bot."""
        if not self.store.keep_audio:
            return
        tr = self._tracks.get(side)
        if tr is None:
            path = self.store.audio_path(self.record.call_id, side)
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
        self.store.finish(rec)
        return rec
