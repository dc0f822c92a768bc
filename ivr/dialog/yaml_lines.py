"""YAML loading that remembers where every key and item came from, so a flow
designer gets ``file:line`` for each problem instead of a bare message."""
from __future__ import annotations

import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from ivr.errors import FlowError, IvrError

# Limits for YAML a designer (or anyone) hands us: no real flow or scenario
# comes near them, and past them PyYAML's recursive composer runs out of stack
# (a 3,000-line RecursionError) or memory.
MAX_YAML_DEPTH = 64
MAX_YAML_BYTES = 4 * 1024 * 1024


class LineDict(dict):
    """A mapping that knows the line of itself and of each of its keys (1-based)."""

    line: int = 0
    key_lines: dict


class LineList(list):
    line: int = 0
    item_lines: list


class YamlLimitError(FlowError):
    """Input past the YAML limits (size, depth, NUL bytes): not a flow file at
    all, so ``ivr validate`` stops with exit 2 rather than listing problems."""


class TooDeep(yaml.composer.ComposerError):
    pass


class LimitedSafeLoader(yaml.SafeLoader):
    """SafeLoader that refuses nesting deeper than MAX_YAML_DEPTH with a
    marked error (file:line) instead of recursing until the stack runs out."""

    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise TooDeep(None, None, f"nested more than {MAX_YAML_DEPTH} levels deep",
                              self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def text_problem(text: str) -> str | None:
    """What makes ``text`` unacceptable as YAML before parsing it, if anything."""
    if len(text) > MAX_YAML_BYTES:
        return f"file is {len(text) / 2**20:.1f} MB; YAML files are limited to {MAX_YAML_BYTES // 2**20} MB"
    if "\x00" in text:
        return f"NUL byte at line {text.count(chr(10), 0, text.index(chr(0))) + 1}: not a text file"
    return None


def read_limited(path: Path, error: type[IvrError]) -> str:
    """A small regular text file, or ``error`` naming it (a FIFO, /dev/zero or a
    huge file is refused before reading)."""
    try:
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):
            raise error("not a regular file", str(path))
        if st.st_size > MAX_YAML_BYTES:
            raise error(f"file is {st.st_size / 2**20:.1f} MB; YAML files are limited to "
                        f"{MAX_YAML_BYTES // 2**20} MB", str(path))
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise error(f"cannot read: {e}", str(path)) from None
    if (problem := text_problem(text)) is not None:
        raise error(problem, str(path))
    return text


def safe_load_limited(path: Path, error: type[IvrError]) -> Any:
    """Plain data from a small YAML settings file, limits enforced."""
    text = read_limited(path, error)
    try:
        return yaml.load(text, Loader=LimitedSafeLoader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        raise error(f"YAML syntax error: {e.problem or e.context}", f"{path}:{mark.line + 1 if mark else 0}") from None
    except yaml.YAMLError as e:
        raise error(f"YAML error: {str(e).splitlines()[0][:200]}", str(path)) from None


class _Loader(LimitedSafeLoader):
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


def load_yaml_text(text: str, where: str, error: type[IvrError] = FlowError,
                   limit_error: type[IvrError] = YamlLimitError) -> Any:
    """Parse YAML keeping line numbers (mappings are ``LineDict``, lists
    ``LineList``; ``line_of`` finds a location's line). A syntax error becomes
    ``error`` at ``where:line``, input past the limits ``limit_error``. The one
    line-keeping loader: flows, scenarios and settings files all use it."""
    if (problem := text_problem(text)) is not None:
        raise limit_error(problem, f"{where}:1")
    try:
        return yaml.load(text, Loader=_Loader)
    except TooDeep as e:
        line = e.problem_mark.line + 1 if e.problem_mark else 1
        raise limit_error(e.problem or "nested too deeply", f"{where}:{line}") from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        # at end of file the useful place is where the unclosed construct began
        if e.context_mark is not None and "stream end" in (e.problem or ""):
            mark = e.context_mark
        line = mark.line + 1 if mark else 0
        msg = f"YAML syntax error: {e.problem or e.context}" + (f" ({e.context})" if e.problem and e.context else "")
        raise error(msg, f"{where}:{line}") from None
    except yaml.YAMLError as e:
        raise error(f"YAML error: {str(e).splitlines()[0][:200]}", where) from None


def read_text(path: Path) -> str:
    """A flow-side file's text, or a FlowError naming it."""
    return read_limited(path, FlowError)


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
