"""The process-wide parts every call shares, and a session per call.

``CallServices`` holds what is loaded once (speech engines, flows + NLU,
prompt renderer, backend registry, handoff queue, call record store,
metrics); ``services.session(source, sink, ...)`` makes one ``CallSession``.
``build_services`` wires the real rooms together with their defaults; tests
build ``CallServices`` directly with fakes where they need to.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ivr.clock import Clock, RealClock
from ivr.dialog.seams import DialogStepper
from ivr.handoff.call_side import CallHandoff
from ivr.prompts.renderer import SayRenderer
from ivr.session.engines import EngineSelector
from ivr.session.metrics import SessionMetrics
from ivr.session.records import CallRecords, CallRecordStore, open_records
from ivr.session.session import CallSession, SessionConfig

if TYPE_CHECKING:
    from ivr.audio.base import AudioSink, AudioSource
    from ivr.transports.base import SessionFactory


@dataclass
class CallServices:
    engines: EngineSelector
    dialog: DialogStepper[Any]
    prompts: SayRenderer
    handoff: CallHandoff | None = None
    records: CallRecords = field(default_factory=CallRecordStore)
    backends: Callable[..., Any] | None = None
    metrics: SessionMetrics = field(default_factory=SessionMetrics)
    config: SessionConfig = field(default_factory=SessionConfig)
    clock: Clock = field(default_factory=RealClock)
    endpointer_factory: Callable[[int], Any] | None = None
    dtmf_factory: Callable[[int], Any] | None = None
    closers: list[Callable[[], Any]] = field(default_factory=list)
    # each finished call's (record, dialog state): caller history (ivr.history.CallerHistory.record_call)
    after_call: Callable[[Any, Any], object] | None = None

    def __post_init__(self) -> None:
        if self.clock is None:  # given as None by an untyped caller
            self.clock = RealClock()

    def session(self, source: AudioSource, sink: AudioSink, *, call_id: str | None = None, caller: str = "",
                transport: str = "", **kw: Any) -> CallSession:
        return CallSession(source, sink, self.engines, self.dialog, self.prompts, self.handoff, self.clock,
                           self.records, call_id=call_id, caller=caller, transport=transport, config=self.config,
                           backends=self.backends, metrics=self.metrics, endpointer_factory=self.endpointer_factory,
                           dtmf_factory=self.dtmf_factory, after_call=kw.pop("after_call", self.after_call), **kw)

    def for_transport(self) -> SessionFactory:
        """The ``(CallInfo, source, sink) -> CallSession`` a transport server takes."""
        return lambda info, source, sink: self.session(source, sink, call_id=info.call_id, caller=info.caller,
                                                       transport=info.transport)

    async def recover(self) -> Any:
        """At start-up: close calls a crashed worker left open, withdraw their queued tickets."""
        from ivr.session.recovery import recover_interrupted

        return await recover_interrupted(self.records, self.handoff)

    def close(self) -> None:
        for fn in reversed(self.closers):
            fn()
        self.records.close()


def build_services(
    flows_dir: str | Path | None = None,
    *,
    flow: str = "main",
    records_path: str | Path = "var/calls.sqlite3",  # a path or a URL: sqlite:///…, postgresql://…
    worker: str = "",
    keep_audio: bool = False,
    handoff_url: str | None = None,
    history_url: str | None = None,
    tts: Any = None,
    engines: EngineSelector | None = None,
    bank_path: str | Path | None = None,
    config: SessionConfig | None = None,
    metrics: SessionMetrics | None = None,
    clock: Clock | None = None,
    reload_flows: bool = False,
) -> CallServices:
    """The real rooms, wired: flows from ``flows_dir`` starting at ``flow``,
    the demo bank + webhooks as backends, the handoff queue at ``handoff_url``
    (default store when None; ``"none"`` for no queue), caller history at
    ``history_url`` (a path or ``postgresql://…``; default ``$IVR_HISTORY_DB``,
    else beside the bank)."""
    from ivr.backends import default_registry
    from ivr.dialog import Dialog, load_flows
    from ivr.history import CallerHistory, default_history_store
    from ivr.nlu import Nlu
    from ivr.paths import flows_dir as resolve_flows
    from ivr.prompts import PromptRenderer

    flows_dir = resolve_flows(flows_dir)
    # one history for the flows' customer_context and the end-of-call hook: a path or postgresql:// URL
    history = CallerHistory.open(history_url or default_history_store(bank_path))
    registry = default_registry(flows_dir, bank_path, history=history)
    if reload_flows:
        from ivr.dialog import FlowStore

        # polled (file mtimes, once a second at most) when a call starts a flow
        dialog = Dialog(FlowStore(flows_dir, backends=registry.names()), Nlu.load(), start=flow)
    else:
        dialog = Dialog(load_flows(flows_dir, backends=registry.names()), Nlu.load(), start=flow)
    records = open_records(records_path, keep_audio=keep_audio, worker=worker)
    handoff = None
    closers: list[Callable[[], Any]] = [history.close]
    if handoff_url != "none":
        from ivr.handoff import HandoffService, open_store

        store = open_store(handoff_url)
        if not isinstance(records, CallRecordStore):  # a shared records database: queue events go there too
            from ivr.handoff.store.reporting import ReportingStore

            store = ReportingStore(store, records)
        handoff = HandoffService(store)
        handoff.wrap_up_listeners.append(history.wrap_up)  # the agent's disposition joins the caller's history
        closers.append(store.close)
    return CallServices(
        engines=engines or EngineSelector(), dialog=dialog, prompts=PromptRenderer(tts),
        handoff=handoff, records=records, backends=registry.call,
        metrics=metrics or SessionMetrics(), config=config or SessionConfig(), clock=clock or RealClock(),
        closers=closers, after_call=history.record_call)
