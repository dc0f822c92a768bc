"""Prompt templates: ``{slot}`` or ``{slot:amount|date|digits|id}``. Values go
through the prompts room's verbalizers when that package is present, so an
amount reads as words rather than as a digit string; a small built-in reading
is the fallback."""
from __future__ import annotations

import datetime as dt
import importlib
import re
from collections.abc import Callable, Collection, Mapping
from typing import Any

TEMPLATE_VAR = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::([a-z_]+))?\}")
_DIGIT = "零一二三四五六七八九"
_NAN_DIGIT = "空一二三四五六七八九"


def _small(n: int) -> str:
    """0 < n < 10000 in Chinese numerals, with the 零 a listener expects."""
    out, zero = "", False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d, n = divmod(n, value)
        if d:
            if zero and out:
                out += "零"
            out += _DIGIT[d] + unit
            zero = False
        elif out:
            zero = True
    return out


def chinese_number(n: int) -> str:
    if n == 0:
        return "零"
    if n < 0:
        return "負" + chinese_number(-n)
    parts, units = [], ["", "萬", "億", "兆"]
    i = 0
    while n:
        n, chunk = divmod(n, 10000)
        if chunk:
            parts.append((i, chunk))
        i += 1
    text, prev = "", None
    for i, chunk in reversed(parts):
        if prev is not None and (prev - i > 1 or chunk < 1000):
            text += "零"
        text += _small(chunk) + units[i]
        prev = i
    if text.startswith("一十"):
        text = text[1:]
    return text.replace("二千", "兩千").replace("二萬", "兩萬").replace("二億", "兩億")


def _amount(value: Any, language: str) -> str:
    n = int(value)
    return chinese_number(n) + ("箍" if language == "nan-TW" else "元")


def _date(value: Any, language: str) -> str:
    d = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    # years are read digit by digit (一九八五年) in both languages
    day = "號" if language == "nan-TW" else "日"
    return f"{_digits(d.year, 'zh-TW')}年{chinese_number(d.month)}月{chinese_number(d.day)}{day}"


def _digits(value: Any, language: str) -> str:
    table = _NAN_DIGIT if language == "nan-TW" else _DIGIT
    return "".join(table[int(c)] if c.isdigit() else c for c in str(value))


def _verbalizers() -> dict[str, Callable[[Any, str], str]]:
    out: dict[str, Callable[[Any, str], str]] = {"amount": _amount, "date": _date, "digits": _digits, "id": _digits}
    try:
        prompts = importlib.import_module("ivr.prompts")
    except Exception:  # the prompts package is optional here; any import failure means fallback
        return out
    for kind in ("amount", "date", "digits"):
        per_lang = {lang: getattr(prompts, f"verbalize_{kind}_{suffix}", None)
                    for lang, suffix in (("zh-TW", "zh"), ("nan-TW", "nan"))}
        out[kind] = _guarded(per_lang, out[kind])
    return out


def _guarded(per_lang: dict[str, Any], fallback: Callable[[Any, str], str]) -> Callable[[Any, str], str]:
    def call(value: Any, language: str) -> str:
        fn = per_lang.get(language)
        if not callable(fn):
            return fallback(value, language)
        try:
            return str(fn(value))
        except Exception:  # a verbalizer that rejects a value must not break the call
            return fallback(value, language)
    return call


class Renderer:
    def __init__(self) -> None:
        self.verbalize = _verbalizers()

    def render(self, template: str, env: Mapping[str, Any], language: str, hidden: Collection[str] = ()) -> str:
        """``hidden``: secret slots (a step said ``secret: true``); they render
        as nothing, whatever the template asks (``ivr validate`` rejects such a
        template, this is the run-time guard)."""
        def sub(m: re.Match[str]) -> str:
            if m.group(1) in hidden:
                return ""
            value = env.get(m.group(1))
            if value is None:
                return ""
            fmt = m.group(2)
            if fmt and fmt in self.verbalize:
                try:
                    return self.verbalize[fmt](value, language)
                except (ValueError, TypeError):
                    return str(value)
            if isinstance(value, bool):
                return "是" if value else "否"
            return str(value)
        return TEMPLATE_VAR.sub(sub, template)

    def render_args(self, args: Any, env: Mapping[str, Any], language: str) -> Any:
        """Backend arguments: a whole-string template keeps the slot's type."""
        if isinstance(args, str):
            m = TEMPLATE_VAR.fullmatch(args)
            if m and not m.group(2):
                return env.get(m.group(1))
            return self.render(args, env, language)
        if isinstance(args, dict):
            return {k: self.render_args(v, env, language) for k, v in args.items()}
        if isinstance(args, list):
            return [self.render_args(v, env, language) for v in args]
        return args
