"""Script conversion: engines emit Traditional characters (Taiwan usage)."""
from __future__ import annotations

from functools import lru_cache

import opencc


@lru_cache(maxsize=4)
def _converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config)


def to_traditional(text: str) -> str:
    """Simplified (or mixed) -> Traditional with Taiwan phrasing (OpenCC s2twp)."""
    return _converter("s2twp").convert(text) if text else text


def to_simplified(text: str) -> str:
    """Traditional -> Simplified, for scoring against Simplified references."""
    return _converter("t2s").convert(text) if text else text
