"""Driving a dialog without audio: text and DTMF turns in, actions out, with
backend calls carried out on the spot. Used by ``ivr chat`` and the scripted
conversation tests; the voice session does the same with audio around it."""
from __future__ import annotations

from typing import Any

from ivr.dialog.engine import Dialog
from ivr.dialog.state import DialogState
from ivr.frames import ActionResult, CallBackend, CallStarted, NoInput, UserInput


class Conversation:
    def __init__(self, dialog: Dialog, backends: Any, call_id: str = "chat-1", caller: str = "",
                 language: str = "zh-TW") -> None:
        self.dialog = dialog
        self.backends = backends
        self.state: DialogState | None = None
        self.t = 0.0
        self.log: list[Any] = []  # every event and action, in order
        self._start = CallStarted(call_id=call_id, caller=caller, language=language)

    def _feed(self, event: Any) -> list[Any]:
        self.log.append(event)
        self.state, actions = self.dialog.step(self.state, event)
        out = []
        while actions:
            out.extend(actions)
            self.log.extend(actions)
            calls = [a for a in actions if isinstance(a, CallBackend)]
            actions = []
            for call in calls:
                result = self.backends.call(call.name, call.args) if self.backends is not None \
                    else ActionResult(call.name, ok=False, error="no backends")
                self.log.append(result)
                self.state, actions = self.dialog.step(self.state, result)
        return out

    def start(self) -> list[Any]:
        return self._feed(self._start)

    def say(self, text: str) -> list[Any]:
        self.t += 5.0
        return self._feed(UserInput(text=text, timestamp=self.t))

    def key(self, digits: str) -> list[Any]:
        self.t += 5.0
        return self._feed(UserInput(dtmf=digits, timestamp=self.t))

    def silence(self) -> list[Any]:
        self.t += 6.0
        return self._feed(NoInput(timestamp=self.t))

    @property
    def ended(self) -> bool:
        return bool(self.state and self.state.ended)
