"""The call session: one object per call running the loop from caller audio
to dialog to prompts, plus call records and metrics."""
from ivr.session.config import SessionConfig
from ivr.session.engines import CallRecognizers, EngineSelector
from ivr.session.factory import CallServices, build_services
from ivr.session.metrics import SessionMetrics
from ivr.session.records import OUTCOMES, CallRecord, CallRecordStore, RecordStore, RecordStoreError
from ivr.session.session import CallSession
from ivr.session.turns import BargeIn, BargeInPolicy, Floor, TurnTaking

__all__ = [
    "CallSession", "SessionConfig", "CallRecord", "CallRecordStore", "RecordStore", "RecordStoreError", "OUTCOMES",
    "SessionMetrics", "EngineSelector", "CallServices", "build_services", "CallRecognizers", "TurnTaking",
    "BargeInPolicy", "BargeIn", "Floor",
]
