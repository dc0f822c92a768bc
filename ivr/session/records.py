"""Call records: what happened on every call, written as it happens.

The models and the store interface are in ``records_base``; the stores are
SQLite (``records_sqlite``, the embedded default) and PostgreSQL
(``records_pg``, shared by a cluster); ``open_records(url)`` opens the one a
URL names. This module holds the session's pen (``RecordWriter``) and the
WAV writer for kept audio, and re-exports the names other rooms import.
"""
from __future__ import annotations

import json
import wave
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ivr.dsn import mask_url
from ivr.log import get_logger
from ivr.paths import cache_home
from ivr.redact import redact_obj
from ivr.session.records_base import (
    OUTCOMES,
    CallRecord,
    CallRecords,
    CallSummary,
    RecordStore,
    RecordStoreError,
)
from ivr.session.records_sqlite import CallRecordStore

if TYPE_CHECKING:
    from ivr.session.outage import StoreHealth

log = get_logger(__name__)

__all__ = ["OUTCOMES", "AudioTrack", "CallRecord", "CallRecordStore", "CallRecords", "CallSummary", "RecordStore",
           "RecordStoreError", "RecordWriter", "open_records"]

RECORDS = "records"  # the store's name in StoreHealth, /healthz and the ivr_store_* metrics
SQLITE_PREFIX = "sqlite:///"
PG_PREFIXES = ("postgresql://", "postgres://")


def open_records(url: str | Path, *, keep_audio: bool = False, worker: str = "", redact: bool = True) -> CallRecords:
    """The store a URL names: ``sqlite:///path`` (or a bare path, relative
    to the working directory), ``postgresql://user@host:5432/db``. With
    PostgreSQL, kept audio goes to ``$IVR_HOME/audio`` on the worker."""
    text = str(url)
    if text.startswith(PG_PREFIXES):
        from ivr.session.records_pg import PgRecordStore

        return PgRecordStore(text, keep_audio=keep_audio, worker=worker, redact=redact,
                             audio_dir=cache_home() / "audio" if keep_audio else None)
    if "://" in text and not text.startswith(SQLITE_PREFIX):
        raise RecordStoreError("unknown records URL; use sqlite:///path or postgresql://user@host/db", mask_url(text))
    path = text[len(SQLITE_PREFIX):] if text.startswith(SQLITE_PREFIX) else text
    if not path:
        raise RecordStoreError("sqlite URL needs a path: sqlite:///var/calls.sqlite3", text)
    return CallRecordStore(path, keep_audio=keep_audio, worker=worker, redact=redact)


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
    store (``spool/<call id>.json``), so nothing is lost. ``health`` (the
    server's ``StoreHealth``) hears of the outage as store ``records``: one
    process-wide log line, ``/healthz`` and ``ivr_store_up``/``ivr_store_errors``."""

    def __init__(self, store: RecordStore, record: CallRecord, *, health: StoreHealth | None = None) -> None:
        self.store = store
        self.record = record
        self.health = health
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
                if self.health is not None:
                    self.health.failed(RECORDS, e)
                if self._failed == 1:
                    log.error("call records unavailable (%s): call %s keeps its record in memory",
                              str(e).splitlines()[0][:200], self.record.call_id)
                return
            self._backlog.pop(0)
            if self.health is not None and self.health.is_down(RECORDS):
                self.health.ok(RECORDS)
            if self._failed:
                log.warning("call records back after %d failed write(s); call %s caught up",
                            self._failed, self.record.call_id)
                self._failed = 0

    @property
    def pending(self) -> int:
        """Writes waiting for the store (0 once it caught up)."""
        return len(self._backlog)

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
