"""Running scenarios through the real call session on a virtual clock.

Each scenario is one call: the real endpointer, DTMF detector, recognizer,
NLU, dialog flows, prompt renderer and handoff queue, with a simulated caller
(``ScenarioLine``) on the other end. The virtual clock jumps over silence and
waiting; while a thread is computing (a decode, a TTS render) it follows the
wall clock instead, so the latencies in the report are what a caller would
wait on this machine. Engines, flows, NLU and prompts load once per run.
"""
from __future__ import annotations

import asyncio
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ivr.audio import DtmfDetector, Endpointer, read_wav, resample, wav_bytes
from ivr.clock import VirtualClock
from ivr.errors import AudioFormatError, IvrError
from ivr.log import get_logger
from ivr.paths import flows_dir as resolve_flows
from ivr.qa.caller import ScenarioLine, TextScript, TurnLog, turn_samples
from ivr.qa.expect import check_call, check_turn
from ivr.qa.loader import ScenarioError, load_scenarios
from ivr.qa.results import RunSummary, ScenarioResult, TurnResult
from ivr.qa.scenario import Scenario
from ivr.qa.text_turns import TextTurnEngine

log = get_logger(__name__)

NO_ENGINE = "text"  # scenario engine meaning "no speech model: text and DTMF turns only"
WALL_LIMIT_S = 120.0  # a scenario that runs longer than this is stuck, not slow
CALL_LIMIT_S = 600.0


class TrackingExecutor(ThreadPoolExecutor):
    """The loop's default executor, counting work in flight so the clock
    driver knows whether the call is waiting on time or on computation."""

    def __init__(self, workers: int = 4) -> None:
        super().__init__(max_workers=workers, thread_name_prefix="ivr-qa")
        self._lock = threading.Lock()
        self.inflight = 0

    def submit(self, fn, /, *args, **kwargs):
        with self._lock:
            self.inflight += 1
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        # The caller gets ``outer``: the worker's result is handed to it (and so to the
        # loop, through run_in_executor's callback) *before* the work counts down. With
        # the worker's own future, the count-down could reach the loop first and the
        # clock driver, seeing no work and nothing runnable, moved call time before the
        # result woke its waiter (turn latencies differed between runs by 0.1-1 s).
        outer: Future = Future()
        inner = super().submit(fn, *args, **kwargs)
        outer.add_done_callback(lambda f: inner.cancel() if f.cancelled() else None)

        def relay(f: Future) -> None:
            if not outer.done():
                if f.cancelled():
                    outer.cancel()
                elif (e := f.exception()) is not None:
                    outer.set_exception(e)
                else:
                    outer.set_result(f.result())
            self._done(loop)

        inner.add_done_callback(relay)
        return outer

    def _done(self, loop: asyncio.AbstractEventLoop | None) -> None:
        # Counted down on the loop, after the result was handed over (above): there, the
        # driver waits until nothing is runnable before call time moves (_until_idle).
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(self._count_down)
                return
            except RuntimeError:  # the loop closed meanwhile
                pass
        self._count_down()

    def _count_down(self) -> None:
        with self._lock:
            self.inflight -= 1


@dataclass
class RunOptions:
    flows_dir: Path | None = None  # default: ./flows, else the shipped flows (ivr.paths)
    engine: str | None = None  # force one engine for every scenario
    # Prompt voice. QA only times prompts (nobody listens to them here), and
    # espeak renders in milliseconds where Kokoro takes seconds per prompt on
    # two cores; pass "kokoro" to replay with the production voice.
    tts: str | None = "espeak"
    prompts_cache: Path | None = None
    audio_dir: Path | None = None  # recorded prompts base dir (default: the flows dir)
    pattern: str | None = None
    on_result: Callable[[ScenarioResult], None] | None = None
    on_start: Callable[[Scenario], None] | None = None
    prewarm: bool = True  # render the flows' fixed prompts into the TTS cache first
    records_db: Path | None = None  # keep each call's record and audio here (``ivr record`` reads it)


class Resources:
    """What every call of a run shares: engines, NLU, dialogs, prompts, backends."""

    def __init__(self, options: RunOptions) -> None:
        self.options = options
        self._engines: dict[str, Any] = {}
        self._missing: dict[str, str] = {}
        self._dialogs: dict[tuple[str, str], Any] = {}
        self._nlu: Any = None
        self._prompts: Any = None
        self._records: Any = None
        self._lock = threading.Lock()

    @property
    def flows_dir(self) -> Path:
        return resolve_flows(self.options.flows_dir)

    def engine(self, name: str, model: str | None = None) -> Any:
        key = f"{name}:{model or ''}"
        with self._lock:
            if key in self._engines:
                return self._engines[key]
            if key in self._missing:
                raise IvrError(self._missing[key], f"engine {name}")
            from ivr.asr import load_engine

            try:
                eng = load_engine(name, model=model) if model else load_engine(name)
            except IvrError as e:
                self._missing[key] = str(e)
                raise
            self._engines[key] = eng
            return eng

    def nlu(self) -> Any:
        if self._nlu is None:
            from ivr.nlu import Nlu

            self._nlu = Nlu.load()
        return self._nlu

    def dialog(self, start: str) -> Any:
        key = (str(self.flows_dir), start)
        if key not in self._dialogs:
            from ivr.dialog import Dialog, load_flows

            flows = load_flows(self.flows_dir)
            if start not in flows.flows:
                raise IvrError(f"no flow {start!r} in {self.flows_dir} (flows: {', '.join(sorted(flows.flows))})",
                               "scenario flow")
            self._dialogs[key] = Dialog(flows, self.nlu(), start=start)
        return self._dialogs[key]

    def prompts(self) -> Any:
        if self._prompts is None:
            from ivr.prompts import PromptRenderer

            self._prompts = PromptRenderer(self.options.tts, cache_dir=self.options.prompts_cache,
                                           audio_dir=self.options.audio_dir or self.flows_dir)
        return self._prompts

    def records(self) -> Any:
        from ivr.session import CallRecordStore

        if self.options.records_db is None:
            return CallRecordStore()
        if self._records is None:
            self._records = CallRecordStore(self.options.records_db, keep_audio=True)
        return self._records

    def prompt_texts(self) -> list[str]:
        """Every fixed prompt text of the flows (templated ones depend on the call)."""
        from ivr.dialog import BUILTIN_PROMPTS, load_flows

        texts: list[str] = []

        def walk(node: Any) -> None:
            if isinstance(node, Mapping):
                for lang in ("zh-TW", "nan-TW"):
                    v = node.get(lang)
                    t = v.get("text") if isinstance(v, Mapping) else v
                    if isinstance(t, str) and "{" not in t:
                        texts.append(t)
                for v in node.values():
                    walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)

        walk(load_flows(self.flows_dir).raws)
        for p in BUILTIN_PROMPTS.values():
            walk(p.model_dump(by_alias=True))
        return list(dict.fromkeys(texts))

    def prewarm(self, sample_rates: Iterable[int]) -> int:
        """Synthesize the flows' fixed prompts before the calls, as a deployment
        does, so latencies measure the call path and not a cold TTS cache."""
        return self.prompts().prewarm(self.prompt_texts(), tuple(sorted(set(sample_rates))))

    def backends(self, workdir: Path) -> tuple[Any, Any]:
        """A fresh demo bank per call (a reset PIN must not leak into the next
        scenario) plus the webhooks configured beside the flows; returns the
        session's ``(name, args) -> ActionResult`` and the bank."""
        from ivr.backends import default_registry
        from ivr.backends.demo_bank import DemoBank

        path = workdir / "bank.db"
        reg = default_registry(self.flows_dir, bank_path=path)
        return reg.acall, DemoBank(path)


class HandoffRecorder:
    """The real handoff service, noting the bundle and queue of each transfer."""

    def __init__(self, service: Any) -> None:
        self.service = service
        self.enqueued: list[tuple[str, dict[str, Any]]] = []

    async def enqueue(self, bundle: Any, queue: str, priority: int = 0) -> Any:
        ticket = await _maybe_await(self.service.enqueue(bundle, queue, priority))
        self.enqueued.append((queue, bundle.to_dict() if hasattr(bundle, "to_dict") else dict(bundle)))
        return ticket

    def __getattr__(self, name: str) -> Any:
        return getattr(self.service, name)


async def _maybe_await(v: Any) -> Any:
    return await v if asyncio.iscoroutine(v) or isinstance(v, asyncio.Future) else v


def _handoff_service(clock: VirtualClock) -> Any:
    from ivr.handoff.service import HandoffService
    from ivr.handoff.store.sqlite_store import SqliteStore

    return HandoffService(SqliteStore(":memory:"), now=clock.now)


@dataclass
class StepLog:
    t: float
    event: str
    state: dict[str, Any]


class RecordingDialog:
    """The real dialog, noting the state after every step (intent and slots per turn)."""

    def __init__(self, dialog: Any, clock: VirtualClock) -> None:
        self.dialog = dialog
        self.clock = clock
        self.steps: list[StepLog] = []

    def step(self, state: Any, event: Any) -> tuple[Any, list[Any]]:
        st, actions = self.dialog.step(state, event)
        snap = st.to_dict() if hasattr(st, "to_dict") else dict(st)
        self.steps.append(StepLog(self.clock.now(), type(event).__name__, snap))
        return st, actions

    def __getattr__(self, name: str) -> Any:
        return getattr(self.dialog, name)


# loop turns given to callbacks woken by finished work before the virtual clock moves
SETTLE_ROUNDS = 4


async def _until_idle(limit: int = 10_000) -> None:
    """Loop turns until nothing but this coroutine is runnable: every callback woken
    by finished work (a chain of awaits may take many turns) has run and is waiting
    on time or on new work. A fixed number of turns was not enough: how many a
    chain needs varies, so call time sometimes moved before a woken turn went on."""
    loop = asyncio.get_running_loop()
    ready = getattr(loop, "_ready", None)  # CPython's run queue (private; absent elsewhere)
    for _ in range(SETTLE_ROUNDS if ready is None else limit):
        await asyncio.sleep(0)
        if ready is not None and not ready:
            return


async def _drive(clock: VirtualClock, task: asyncio.Task, executor: TrackingExecutor) -> None:
    wall0 = time.monotonic()
    while not task.done():
        if time.monotonic() - wall0 > WALL_LIMIT_S or clock.now() > CALL_LIMIT_S:
            task.cancel()
            raise IvrError(f"call did not end after {clock.now():.0f} s call time / {WALL_LIMIT_S:.0f} s wall",
                           "runner")
        await asyncio.sleep(0)
        if task.done():
            break
        if executor.inflight or clock.held:
            # Computation (a decode, a prompt render, a backend call) takes no
            # call time: the virtual clock waits for it. Advancing the clock by
            # the wall time it took made verdicts depend on how fast and how
            # busy the machine was (a slow decode let the caller's next turn
            # start early); replay must give the same result on every run.
            await asyncio.sleep(0.002)
            continue
        # what finished computing has woken its waiters: let them run (and maybe start
        # more work) before any call time passes
        await _until_idle()
        if executor.inflight or clock.held:
            continue
        deadline = clock.next_deadline()
        if deadline is None:
            await asyncio.sleep(0.001)
        else:
            await clock.advance(max(0.0, deadline - clock.now()))


def _skip_reason(sc: Scenario) -> str | None:
    for req in sc.requires:
        if not sc.resolve(req).exists():
            return f"needs {req} (not found at {sc.resolve(req)})"
    for t in sc.turns:
        if t.audio is not None and not sc.resolve(t.audio).exists():
            p = sc.resolve(t.audio)
            if "shared" in Path(t.audio).parts:
                return f"needs shared recording {t.audio} (not found at {p})"
    return None


def _label(sc: Scenario, i: int) -> str:
    t = sc.turns[i]
    if t.audio is not None:
        seg = f" [{t.segment[0]:g}-{t.segment[1]:g}s]" if t.segment else ""
        s = f"audio {Path(t.audio).name}{seg}"
    elif t.dtmf is not None:
        keys = t.dtmf if len(t.dtmf) <= 5 else "*" * len(t.dtmf)
        s = f"keys {keys} ({'in-band' if t.inband else 'out-of-band'})"
    elif t.text is not None:
        s = f"says (text) 「{t.text}」"
    elif t.silence_ms is not None:
        s = f"silence {t.silence_ms} ms"
    else:
        s = "hangs up"
    return s + (f", barge-in at {t.barge_in_ms} ms" if t.barge_in_ms is not None else "")


def _in(t: float, a: float, b: float | None) -> bool:
    return t >= a - 1e-6 and (b is None or t < b - 1e-6)


def _build_turns(sc: Scenario, logs: list[TurnLog], record: Any, steps: list[StepLog], rate: int,
                 wav_bytes: Callable) -> list[TurnResult]:
    import numpy as np

    events = record.events
    out: list[TurnResult] = []
    by_index = {lg.index: lg for lg in logs}
    starts = sorted(lg.start for lg in logs)
    for i, spec in enumerate(sc.turns):
        tr = TurnResult(index=i, kind=spec.kind, line=spec.line, label=_label(sc, i))
        lg = by_index.get(i)
        if spec.expect is not None:
            tr.expected_text = spec.expect.reference or (
                spec.expect.transcript_contains if isinstance(spec.expect.transcript_contains, str) else "")
        if lg is None:
            if spec.expect is not None:
                tr.failures.append("never played: the call ended before this turn")
            out.append(tr)
            continue
        nxt = next((s for s in starts if s > lg.start + 1e-6), None)
        rec = [e for e in events if e["kind"] == "recognized" and _in(e["t"], lg.start, nxt)]
        turn_ev = [e for e in events if e["kind"] == "turn" and _in(e["t"], lg.start, nxt)]
        # an answer to a secret step (PIN, code): its keys, words, reference and audio stay out of every report
        tr.secret = any(e.get("secret") for e in rec + turn_ev)
        if tr.secret:
            tr.label = _secret_label(spec)
            tr.expected_text = "*" * len(tr.expected_text)
        elif lg.pcm:
            tr.caller_wav = wav_bytes(np.frombuffer(lg.pcm, np.int16), rate)
        tr.transcript = " ".join(e.get("text", "") for e in rec if e.get("text")).strip()
        if turn_ev:
            tr.dtmf = "".join(e.get("dtmf", "") or "" for e in turn_ev)
            heard = any(e.get("text") or e.get("dtmf") for e in turn_ev)
            tr.no_input = any(e.get("no_input") for e in turn_ev) and not heard
            if not tr.transcript:
                tr.transcript = " ".join(e.get("text", "") for e in turn_ev if e.get("text")).strip()
        # Barged in = the prompt playing when the caller started was cut short.
        tr.barged_in = lg.bot_was_speaking and any(
            e["kind"] == "prompt" and e.get("interrupted") and e.get("started", e["t"]) <= lg.start + 1e-6
            and e.get("started", e["t"]) + (e.get("duration") or 0) >= lg.start for e in events)
        st_steps = [s for s in steps if s.event in ("UserInput", "NoInput") and _in(s.t, lg.start, nxt)]
        if st_steps:
            st = st_steps[0].state
            turns = st.get("turns") or []
            last = turns[-1] if turns else {}
            # this turn's own understanding, not the call's intent carried over
            tr.intent = last.get("intent")
            tr.command = last.get("command")
            tr.slots = dict(st_steps[-1].state.get("slots") or {})
            tr.secret_slots = list(st_steps[-1].state.get("secret_slots") or ())
        prompts = [e for e in events if e["kind"] == "prompt" and not e.get("skipped")
                   and _in(e.get("started", e["t"]), lg.start, nxt)]
        tr.prompts = [e["key"] for e in prompts]
        tr.prompt_texts = [e.get("text") or "" for e in prompts]
        if prompts and spec.kind != "silence":
            # Speech: from the end of the caller's words (so it includes the
            # endpointer's wait); keys: from the key that completed the input.
            ends = [e["end"] for e in rec if "end" in e] or [e["t"] for e in turn_ev] or [lg.end]
            first = min(e.get("started", e["t"]) for e in prompts)
            tr.latency_ms = max(0.0, first - max(ends)) * 1000
        if spec.expect is not None:
            check_turn(tr, spec.expect)
        tr.slots = {k: ("*" * len(str(v)) if k in tr.secret_slots and v is not None else v)
                    for k, v in tr.slots.items()}
        out.append(tr)
    return out


def _secret_label(spec: Any) -> str:
    if spec.dtmf is not None:
        return f"keys {'*' * len(spec.dtmf)} ({'in-band' if spec.inband else 'out-of-band'}, secret)"
    return f"{spec.kind} (a secret step: not shown)"


async def _run_call(sc: Scenario, res: Resources, executor: TrackingExecutor, workdir: Path) -> ScenarioResult:
    from ivr.session import CallSession, SessionConfig
    from ivr.session.engines import EngineSelector

    result = ScenarioResult(scenario=sc)
    clock = VirtualClock()
    rate = sc.sample_rate
    script = TextScript()
    line = ScenarioLine(sc, turn_samples(sc, rate, read_wav, resample), clock, rate, script)
    engine_name = res.options.engine or sc.engine
    # Engines load in the executor: the loop (and the virtual clock) must not block on a model load.
    loop = asyncio.get_running_loop()
    if engine_name == NO_ENGINE:
        selector = EngineSelector({NO_ENGINE: TextTurnEngine(None, script, NO_ENGINE)}, routes={}, fallback=NO_ENGINE)
    elif engine_name:
        real = await loop.run_in_executor(None, res.engine, engine_name, sc.model)
        selector = EngineSelector({engine_name: TextTurnEngine(real, script, engine_name)}, routes={},
                                  fallback=engine_name)
    else:
        def load(name: str) -> Any:
            return TextTurnEngine(res.engine(name), script, name)

        selector = EngineSelector(loader=load)
    dialog = RecordingDialog(res.dialog(sc.flow), clock)
    backends, bank = res.backends(workdir)

    def variable(name: str) -> str:
        if name in sc.vars:
            return sc.vars[name]
        if name == "sms_code":
            cid = (dialog.steps[-1].state.get("slots") or {}).get("customer_id") if dialog.steps else None
            return (bank.last_code(cid) if cid is not None else None) or ""
        return ""

    line.variables = variable
    handoff = HandoffRecorder(_handoff_service(clock))
    records = res.records()
    session = CallSession(
        line, line, selector, dialog, res.prompts(), handoff, clock, records,
        call_id=f"qa-{sc.name}-{uuid.uuid4().hex[:8]}", caller=sc.caller, transport="qa",
        config=SessionConfig(language=sc.language, max_call_seconds=CALL_LIMIT_S - 10, hold_announce_every_s=600.0),
        backends=backends,
        endpointer_factory=Endpointer, dtmf_factory=DtmfDetector,
    )
    # The caller stays on the line until the bot ends the call or hands it to
    # an agent; then it hangs up (the agent leg is the handoff queue's business).
    line.is_done = lambda: any(e["kind"] == "transfer" for e in session.record.events)
    task = asyncio.ensure_future(session.run())
    await _drive(clock, task, executor)
    record = task.result()
    result.outcome = record.outcome or ""
    result.call_id = record.call_id
    result.call_seconds = clock.now()
    result.prompts = [e["key"] for e in record.prompts if not e.get("skipped")]
    engines = {e.get("engine", "") for e in record.events if e["kind"] == "recognized"} - {""}
    result.engine = ",".join(sorted(engines)) or (engine_name or "")
    bundle = None
    if handoff.enqueued:
        result.handoff_queue, bundle = handoff.enqueued[-1]
        result.handoff_context = {k: bundle[k] for k in ("language", "verified", "verified_by", "intent", "slots",
                                                         "reason", "path")
                                  if k in bundle}
    result.turns = _build_turns(sc, line.logs, record, dialog.steps, rate, wav_bytes)
    final_state = dialog.steps[-1].state if dialog.steps else {}
    errors = [e for e in record.events
              if e["kind"] == "action" and e.get("name") == "hangup" and e.get("reason") == "error"]
    if record.end_reason == "error" and not errors:
        result.failures.append("the call ended in an error (see logs)")
    check_call(result, sc.expect, final_state, bundle, record.language)
    return result


def run_scenario(sc: Scenario, res: Resources | None = None) -> ScenarioResult:
    """One scenario in its own event loop; never raises for a scenario problem
    (that is an ``error`` result)."""
    res = res or Resources(RunOptions())
    t0 = time.perf_counter()
    reason = _skip_reason(sc)
    if reason:
        return ScenarioResult(scenario=sc, status="skipped", message=reason)
    executor = TrackingExecutor()
    loop = asyncio.new_event_loop()
    loop.set_default_executor(executor)
    try:
        with tempfile.TemporaryDirectory(prefix="ivr-qa-") as tmp:
            r = loop.run_until_complete(_run_call(sc, res, executor, Path(tmp)))
        r.settle()
    except IvrError as e:
        r = ScenarioResult(scenario=sc, status="error", message=str(e))
        r.input_error = isinstance(e, (AudioFormatError, ScenarioError))
    except Exception as e:  # a bug in a stage: report it on this scenario and carry on with the rest
        log.exception("scenario %s crashed", sc.name)
        r = ScenarioResult(scenario=sc, status="error", message=f"{type(e).__name__}: {e}")
    finally:
        _cancel_leftovers(loop)
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
        executor.shutdown(wait=True)
    r.wall_seconds = time.perf_counter() - t0
    return r


def _cancel_leftovers(loop: asyncio.AbstractEventLoop) -> None:
    """Tasks the call left behind (a caller on hold when the replay ended) are
    cancelled and awaited before the loop closes, not destroyed pending."""
    left = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for t in left:
        t.cancel()
    if left:
        loop.run_until_complete(asyncio.gather(*left, return_exceptions=True))


def run_scenarios(paths: Iterable[str | Path] | Iterable[Scenario], options: RunOptions | None = None,
                  resources: Resources | None = None) -> RunSummary:
    """Load (if given paths) and run scenarios; the public entry point."""
    options = options or RunOptions()
    items = list(paths)
    scenarios = [s for s in items if isinstance(s, Scenario)]
    files = [p for p in items if not isinstance(p, Scenario)]
    if files:
        scenarios += load_scenarios(files, options.pattern)
    res = resources or Resources(options)
    t0 = time.perf_counter()
    if options.prewarm and scenarios:
        try:
            res.prewarm(s.sample_rate for s in scenarios)
        except IvrError as e:  # reported again, per scenario, when the flows are loaded
            log.warning("prompt prewarm skipped: %s", e)
    results = []
    for sc in scenarios:
        if options.on_start:
            options.on_start(sc)
        r = run_scenario(sc, res)
        results.append(r)
        if options.on_result:
            options.on_result(r)
    return RunSummary(results, time.perf_counter() - t0)
