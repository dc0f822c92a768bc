"""Prompt catalogue: a prompt is a key with one variant per language, each a
recorded audio file, text to synthesize, or both (the text is then the
fallback when the recording is missing, and the transcript for logs).

YAML form (``prompts.yml``)::

    welcome:
      zh-TW: {text: 您好，歡迎致電, audio: zh/welcome.wav}
      nan-TW: {audio: nan/welcome.wav, text: 你好，歡迎來電}
    goodbye:
      zh-TW: 謝謝您的來電，再見      # a bare string is text
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ivr.frames import LANGUAGES, Say
from ivr.prompts.errors import PromptError


@dataclass(frozen=True, slots=True)
class PromptVariant:
    text: str = ""
    audio: str | None = None


@dataclass(frozen=True, slots=True)
class Prompt:
    key: str
    variants: Mapping[str, PromptVariant] = field(default_factory=dict)

    def say(self, language: str, interruptible: bool = True) -> Say:
        """The ``Say`` for ``language``; a missing nan-TW variant borrows the
        zh-TW one (text then read by the Mandarin voice)."""
        v = self.variants.get(language) or (self.variants.get("zh-TW") if language == "nan-TW" else None)
        if v is None:
            raise PromptError(f"prompt {self.key!r} has no {language} variant", f"prompt {self.key}")
        return Say(self.key, language, v.text, v.audio, interruptible)


class PromptCatalogue:
    def __init__(self, prompts: Mapping[str, Prompt]) -> None:
        self.prompts = dict(prompts)

    def __getitem__(self, key: str) -> Prompt:
        try:
            return self.prompts[key]
        except KeyError:
            raise PromptError(f"unknown prompt {key!r}", "prompts") from None

    def __contains__(self, key: object) -> bool:
        return key in self.prompts

    def __len__(self) -> int:
        return len(self.prompts)

    def texts(self) -> list[str]:
        """Every text variant, for ``PromptRenderer.prewarm``."""
        return [v.text for p in self.prompts.values() for v in p.variants.values() if v.text]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "prompts") -> PromptCatalogue:
        if not isinstance(data, Mapping):
            raise PromptError("prompt catalogue must be a mapping of key -> languages", where)
        prompts = {}
        for key, langs in data.items():
            if not isinstance(langs, Mapping):
                raise PromptError(f"prompt {key!r}: want a mapping of language -> text/audio", where)
            variants = {}
            for lang, v in langs.items():
                if lang not in LANGUAGES:
                    raise PromptError(f"prompt {key!r}: unknown language {lang!r}", where)
                if isinstance(v, str):
                    v = {"text": v}
                if not isinstance(v, Mapping) or set(v) - {"text", "audio"} or not (v.get("text") or v.get("audio")):
                    raise PromptError(f"prompt {key!r} {lang}: want text and/or audio", where)
                variants[lang] = PromptVariant(str(v.get("text") or ""), v.get("audio"))
            prompts[str(key)] = Prompt(str(key), variants)
        return cls(prompts)

    @classmethod
    def load(cls, path: str | Path) -> PromptCatalogue:
        from ivr.dialog.yaml_lines import safe_load_limited

        p = Path(path)
        # size, depth and NUL limits; a FIFO or /dev/zero is refused before reading
        data = safe_load_limited(p, PromptError) or {}
        return cls.from_dict(data, str(p))
