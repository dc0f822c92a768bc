"""The dialog room's two seams.

``FlowSource``: where the dialog engine gets its flows. A fixed ``FlowSet``
(tests, ``ivr chat``) and a ``FlowStore`` that follows its directory (hot
reload) are both sources: ``current()`` is what a new call starts on,
``get(version)`` the set an existing call started on (``None`` once gone).

``DialogStepper``: what a call session drives. ``Dialog`` is one; so is a
wrapper that notes every step (QA) or a scripted test dialog. The state is
the stepper's own (``DialogState`` for ``Dialog``); the session only keeps it
and reads ``language``/``intent``/``path`` off it for records and handoff."""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, TypeVar, runtime_checkable

from ivr.frames import DialogAction, DialogEvent

if TYPE_CHECKING:
    from ivr.dialog.loader import FlowSet

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
