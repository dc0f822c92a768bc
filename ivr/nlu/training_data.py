"""Load and validate Rasa-format ``nlu.yml`` training data (version "3.1").

Only the parts this project uses are accepted: ``- intent: name`` items with
an ``examples: |`` block and optional ``metadata: {language: zh-TW|nan-TW}``
(default zh-TW). Anything else is an error naming file:line, because a flow
designer's typo silently dropping examples would be worse than a refusal."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from .errors import NluDataError

LANGUAGES = ("zh-TW", "nan-TW")
_INTENT_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_ITEM_KEYS = {"intent", "examples", "metadata"}


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    language: str
    line: int  # 1-based line in the file


def load_examples(path: str | Path) -> list[Example]:
    from ivr.dialog.yaml_lines import read_limited

    path = Path(path)
    if not path.exists():
        raise NluDataError("training data file not found", str(path))
    return parse_examples(read_limited(path, NluDataError), str(path))


def parse_examples(text: str, name: str) -> list[Example]:
    def fail(msg: str, node: yaml.Node | None = None, line: int | None = None) -> NluDataError:
        if line is None and node is not None:
            line = node.start_mark.line + 1
        return NluDataError(msg, f"{name}:{line}" if line else name)

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        problem = (err.problem or err.context or "invalid YAML").strip()
        raise fail(f"invalid YAML: {problem}", line=mark.line + 1 if mark else None) from None
    except yaml.YAMLError as err:
        raise fail(f"invalid YAML: {err}".splitlines()[0]) from None
    if not isinstance(root, yaml.MappingNode):
        raise fail("top level must be a mapping with 'version' and 'nlu'", root, 1)
    top = {k.value: v for k, v in root.value}
    version = top.get("version")
    if version is None or not isinstance(version, yaml.ScalarNode) or version.value != "3.1":
        raise fail('version must be "3.1"', version or root)
    nlu = top.get("nlu")
    if not isinstance(nlu, yaml.SequenceNode):
        raise fail("'nlu' must be a list of intents", nlu or root)
    unknown = set(top) - {"version", "nlu"}
    if unknown:
        key = next(k for k, _ in root.value if k.value in unknown)
        raise fail(f"unknown top-level key {key.value!r}", key)

    examples: list[Example] = []
    owner: dict[str, Example] = {}
    for item in nlu.value:
        if not isinstance(item, yaml.MappingNode):
            raise fail("each nlu entry must be a mapping with 'intent' and 'examples'", item)
        fields = {k.value: (k, v) for k, v in item.value}
        for key, (knode, _) in fields.items():
            if key not in _ITEM_KEYS:
                raise fail(f"unsupported key {key!r} (only intent, examples, metadata)", knode)
        if "intent" not in fields:
            raise fail("entry has no 'intent'", item)
        intent_node = fields["intent"][1]
        intent = intent_node.value if isinstance(intent_node, yaml.ScalarNode) else ""
        if not _INTENT_NAME.match(intent):
            raise fail(f"bad intent name {intent!r} (lower_snake_case)", intent_node)
        language = "zh-TW"
        if "metadata" in fields:
            meta = fields["metadata"][1]
            if not isinstance(meta, yaml.MappingNode):
                raise fail("metadata must be a mapping", meta)
            for k, v in meta.value:
                if k.value != "language":
                    raise fail(f"unsupported metadata key {k.value!r}", k)
                if v.value not in LANGUAGES:
                    raise fail(f"language must be one of {', '.join(LANGUAGES)}, not {v.value!r}", v)
                language = v.value
        if "examples" not in fields:
            raise fail(f"intent {intent!r} has no 'examples'", item)
        ex_node = fields["examples"][1]
        if not isinstance(ex_node, yaml.ScalarNode) or ex_node.style != "|":
            raise fail("examples must be a literal block ('examples: |') of '- ' lines", ex_node)
        first_line = ex_node.start_mark.line + 2  # the line after "examples: |"
        count = 0
        for offset, raw in enumerate(ex_node.value.split("\n")):
            line = first_line + offset
            if not raw.strip():
                continue
            if not raw.startswith("- "):
                raise fail(f"example line must start with '- ': {raw.strip()!r}", line=line)
            sample = raw[2:].strip()
            if not sample:
                raise fail("empty example", line=line)
            ex = Example(sample, intent, language, line)
            prev = owner.get(sample)
            if prev is not None and prev.intent != intent:
                raise fail(f"example {sample!r} is also under {prev.intent!r} (line {prev.line})",
                           line=line)
            owner[sample] = ex
            examples.append(ex)
            count += 1
        if count == 0:
            raise fail(f"intent {intent!r} has no examples", ex_node)
    if not examples:
        raise fail("no training examples", nlu)
    return examples
