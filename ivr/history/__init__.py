"""Caller history and customer value: every call linked to the customer (by
the caller number's keyed hash before identification), what flows branch on,
what the agent's screen pop shows, and the PDPA export/erase."""
from ivr.history.backends import ACTIONS, ContextActions
from ivr.history.keys import NumberKeyer, mask_number
from ivr.history.models import Contact, HistorySummary, summarize
from ivr.history.pg_store import PgHistoryStore
from ivr.history.service import CallerHistory, default_history_path, default_history_store, open_history_store
from ivr.history.sqlite_store import SqliteHistoryStore
from ivr.history.store import HistoryStore, HistoryStoreError
from ivr.history.value import CustomerValue, ValueModel

__all__ = ["ACTIONS", "CallerHistory", "Contact", "ContextActions", "CustomerValue", "HistoryStore",
           "HistoryStoreError", "HistorySummary", "NumberKeyer", "PgHistoryStore", "SqliteHistoryStore", "ValueModel",
           "default_history_path", "default_history_store", "mask_number", "open_history_store", "summarize"]
