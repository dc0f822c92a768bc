"""NLU errors: one line naming the problem and where (see ivr.errors)."""
from __future__ import annotations

from ivr.errors import IvrError


class NluError(IvrError):
    """A call into the NLU that cannot be answered (unknown intent or slot kind)."""


class NluDataError(NluError):
    """Training data that does not load or validate; ``where`` is file:line."""
