"""Every static prompt of a deployment, rendered before the first call.

A prompt synthesized on first use (Kokoro on two cores: seconds) is dead air
for the caller who happens to need it first, e.g. the "system busy" line
during an outage. ``ivr serve`` renders all of them at start, ``ivr say
--prewarm flows/`` does it at deploy time; templated prompts (with ``{slot}``)
depend on the call: their fixed parts are rendered as fragments instead
(ivr/prompts/splice.py), and the values are synthesized at call time (secret
values never: the dialog renders a secret slot as nothing)."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from ivr.dialog.loader import FlowSet

LANGS = ("zh-TW", "nan-TW")


class Prewarmable(Protocol):
    def prewarm(self, texts: Iterable[str], sample_rates: Iterable[int] = ...) -> int: ...


@runtime_checkable
class TemplatePrewarmable(Prewarmable, Protocol):
    splice: bool
    splice_numbers: bool

    def add_templates(self, templates: Iterable[tuple[str, str]]) -> None: ...


def _walk(node: object, out: list[str], templates: list[tuple[str, str]] | None = None) -> None:
    if isinstance(node, Mapping):
        for lang in LANGS:
            v = node.get(lang)
            t = v.get("text") if isinstance(v, Mapping) else v
            if isinstance(t, str) and t.strip():
                if "{" not in t:
                    out.append(t)
                elif templates is not None:
                    templates.append((lang, t))
        for v in node.values():
            _walk(v, out, templates)
    elif isinstance(node, list):
        for v in node:
            _walk(v, out, templates)


def template_texts(flows_dir: str | Path) -> list[tuple[str, str]]:
    """(language, text) of every templated prompt of the flows in ``flows_dir``, once each."""
    from ivr.dialog import load_flows

    found: list[tuple[str, str]] = []
    _walk(load_flows(flows_dir).raws, [], found)
    return list(dict.fromkeys(found))


def static_prompt_texts(flows_dir: str | Path, extra: Iterable[str] = ()) -> list[str]:
    """Fixed prompt texts of the flows in ``flows_dir``, the dialog's built-in
    prompts, the session's own (busy, fallback) and ``extra``; in order, once each."""
    from ivr.dialog import BUILTIN_PROMPTS, load_flows
    from ivr.session.outage import BUSY_TEXT, fallback_text

    texts: list[str] = []
    flows = load_flows(flows_dir)
    _walk(flows.raws, texts)
    for p in BUILTIN_PROMPTS.values():
        _walk(p.model_dump(by_alias=True), texts)
    texts += _generated(flows)
    texts += [BUSY_TEXT, fallback_text(), *extra]
    return list(dict.fromkeys(texts))


def _generated(flows: FlowSet) -> list[str]:
    """What the dialog's language policy says itself (keys menus, read-backs: ivr/dialog/policy.py)."""
    from ivr.dialog.policy import generated_prompts
    from ivr.nlu import Nlu

    describe = Nlu.load().describe
    return [g.text for lang in LANGS for g in generated_prompts(flows, lang, describe)]


def warm_texts(flows_dir: str | Path, extra: Iterable[str] = (), numbers: bool = False) -> list[str]:
    """Every static prompt text (``static_prompt_texts``) and the fragments of
    the templated prompts (their fixed parts; ``numbers``: the number pieces
    too), once each: what ``prewarm_flows`` renders into the cache."""
    from ivr.prompts.splice import NUMBER_PIECES, fragment_texts, parse_template

    parsed = [t for lang, text in template_texts(flows_dir) if (t := parse_template(text, lang)) is not None]
    pieces = NUMBER_PIECES if numbers and parsed else ()
    return list(dict.fromkeys([*static_prompt_texts(flows_dir, extra), *fragment_texts(parsed), *pieces]))


def prewarm_flows(renderer: Prewarmable, flows_dir: str | Path, sample_rates: Iterable[int] = (8000,),
                  extra: Iterable[str] = ()) -> tuple[int, int]:
    """(texts, newly synthesized) after rendering every static prompt, and the
    fixed parts of the templated ones (for a renderer that splices), into the cache."""
    if isinstance(renderer, TemplatePrewarmable) and renderer.splice:
        renderer.add_templates(template_texts(flows_dir))
        texts = warm_texts(flows_dir, extra, renderer.splice_numbers)
    else:
        texts = static_prompt_texts(flows_dir, extra)
    return len(texts), renderer.prewarm(texts, tuple(sample_rates))
