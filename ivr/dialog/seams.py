"""The dialog room's three seams.

``FlowSource``: where the dialog engine gets its flows. A fixed ``FlowSet``
(tests, ``ivr chat``) and a ``FlowStore`` that follows its directory (hot
reload) are both sources: ``current()`` is what a new call starts on,
``get(version)`` the set an existing call started on (``None`` once gone).

``DialogStepper``: what a call session drives. ``Dialog`` is one; so is a
wrapper that notes every step (QA) or a scripted test dialog. The state is
the stepper's own (``DialogState`` for ``Dialog``); the session only keeps it
and reads ``language``/``intent``/``path`` off it for records and handoff.

``Understander``: what the dialog asks of natural-language understanding.
``ivr.nlu.Nlu`` is the one the product uses; a test may give a scripted one.
Every method is pure (no I/O), so ``Dialog.step`` stays pure."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

from ivr.frames import DialogAction, DialogEvent

if TYPE_CHECKING:
    from ivr.dialog.loader import FlowSet
    from ivr.nlu import IntentResult, Understanding

S = TypeVar("S")


@runtime_checkable
class FlowSource(Protocol):
    def current(self) -> FlowSet:
        """The flows a new call starts on."""
        ...

    def get(self, version: str) -> FlowSet | None:
        """The flows of ``version``, if still held."""
        ...


class DialogStepper(Protocol[S]):
    def step(self, state: S | None, event: DialogEvent) -> tuple[S, Sequence[DialogAction]]:
        """Pure: the next state and the actions to carry out. ``state`` is None
        only with ``CallStarted``."""
        ...


@runtime_checkable
class Understander(Protocol):
    def classify(self, text: str, language: str = "zh-TW",
                 candidates: Sequence[str] | None = None) -> IntentResult:
        """The best intent among ``candidates`` (default: all), with a ranking."""
        ...

    def commands(self, text: str, language: str = "zh-TW") -> str | None:
        """A global command (agent, repeat, main_menu, lang_zh, lang_nan) or None."""
        ...

    def extract(self, kind: str, text: str, language: str = "zh-TW", **params: Any) -> Any:
        """The value of a slot kind in ``text`` (yes_no, digits, date, …) or None."""
        ...

    def understand(self, kind: str, text: str, language: str = "zh-TW",
                   candidates: Sequence[str] | None = None, min_confidence: float = 0.45,
                   **params: Any) -> Understanding:
        """A closed-set decision with an explicit accept / confirm / reject outcome."""
        ...

    def describe(self, intent: str, language: str = "zh-TW") -> str | None:
        """How a confirmation names an intent (查詢餘額)."""
        ...

    def expected_phrases(self, what: str | Iterable[str], language: str = "zh-TW") -> tuple[str, ...]:
        """Phrases for a recognizer's grammar or hints."""
        ...
