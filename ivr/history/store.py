"""The history store seam: a small typed base every store implements
(SQLite here; a PostgreSQL one can follow the same contract)."""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from ivr.errors import IvrError
from ivr.history.models import Contact


class HistoryStoreError(IvrError):
    """The history database cannot be opened, read or written."""


class HistoryStore(ABC):
    """Contacts by call id, found by customer id or by a caller-number key.

    ``erase`` deletes a customer's contacts and the unidentified calls from the
    numbers they called from (the PDPA right to deletion), and keeps a row that
    an erasure happened (when, how many) with nothing personal in it."""

    @abstractmethod
    def add(self, contact: Contact) -> None:
        """Store (or replace) the contact of ``contact.call_id``."""

    @abstractmethod
    def wrap_up(self, call_id: str, agent: str, code: str, notes: str) -> bool:
        """The agent's wrap-up for a call; False when no such call is stored."""

    @abstractmethod
    def find(self, customer_id: str = "", number_keys: Sequence[str] = (), since: float | None = None) -> list[Contact]:
        """Contacts of the customer or of any of the number keys, newest first."""

    @abstractmethod
    def number_keys_of(self, customer_id: str) -> list[str]:
        """The number keys the customer's identified calls came from."""

    @abstractmethod
    def erase(self, customer_id: str, at: float) -> int:
        """Delete everything linked to the customer; returns how many contacts."""

    @abstractmethod
    def prune(self, before: float) -> int:
        """Delete contacts that started before ``before`` (retention)."""

    @abstractmethod
    def erasures(self) -> list[tuple[float, int]]:
        """(when, contacts deleted) of every erasure, oldest first."""

    def close(self) -> None:  # noqa: B027  stores without resources need nothing
        """Release the store's connection."""
