"""YAML loading that remembers where every key and item came from, so a flow
designer gets ``file:line`` for each problem instead of a bare message."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import yaml

from ivr.errors import FlowError


class LineDict(dict):
    """A mapping that knows the line of itself and of each of its keys (1-based)."""

    line: int = 0
    key_lines: dict


class LineList(list):
    line: int = 0
    item_lines: list


class _Loader(yaml.SafeLoader):
    pass


def _map(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    out = LineDict()
    out.line = node.start_mark.line + 1
    out.key_lines = {}
    loader.flatten_mapping(node)
    for knode, vnode in node.value:
        key = loader.construct_object(knode, deep=True)
        if key in out:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", knode.start_mark)
        out[key] = loader.construct_object(vnode, deep=True)
        out.key_lines[key] = knode.start_mark.line + 1
    return out


def _seq(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    out = LineList(loader.construct_object(n, deep=True) for n in node.value)
    out.line = node.start_mark.line + 1
    out.item_lines = [n.start_mark.line + 1 for n in node.value]
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _map)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _seq)


def load_yaml_text(text: str, where: str) -> Any:
    """Parse YAML keeping line numbers; a syntax error becomes a FlowError at
    ``where:line``."""
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - SafeLoader subclass
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        # at end of file the useful place is where the unclosed construct began
        if e.context_mark is not None and "stream end" in (e.problem or ""):
            mark = e.context_mark
        line = mark.line + 1 if mark else 0
        msg = f"YAML syntax error: {e.problem or e.context}" + (f" ({e.context})" if e.problem and e.context else "")
        raise FlowError(msg, f"{where}:{line}") from None
    except yaml.YAMLError as e:
        raise FlowError(f"YAML error: {e}", where) from None


def read_text(path: Path) -> str:
    """A flow-side file's text, or a FlowError naming it."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise FlowError(f"cannot read: {e}", str(path)) from None


def load_yaml_file(path: Path) -> Any:
    return load_yaml_text(read_text(path), str(path))


def line_of(doc: Any, loc: Sequence[Any]) -> int:
    """Line of the deepest node along ``loc`` (a pydantic error location) that
    exists in ``doc``: the offending key itself where possible."""
    node, line = doc, getattr(doc, "line", 0) or 1
    for part in loc:
        if isinstance(node, LineDict) and part in node:
            line = node.key_lines.get(part, line)
            node = node[part]
        elif isinstance(node, LineList) and isinstance(part, int) and 0 <= part < len(node):
            line = node.item_lines[part]
            node = node[part]
        else:
            break
    return line
