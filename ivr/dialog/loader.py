"""Reading a flows directory: YAML (with line numbers) -> pydantic models ->
a ``FlowSet`` stamped with a content hash, the version a call keeps."""
from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ivr.dialog.models import STEP_KINDS, Flow, Step
from ivr.dialog.yaml_lines import LineDict, YamlLimitError, line_of, load_yaml_text, read_text
from ivr.errors import FlowError

SCHEMA_LINE = "# yaml-language-server: $schema=./schema.json"


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass
class ParsedFlow:
    path: Path
    raw: Any
    flow: Flow | None
    problems: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class FlowSet:
    """Every flow of one directory at one moment. ``version`` is a hash of the
    files' bytes: a call records it and keeps running on this set even when
    the files change under it."""

    flows: dict[str, Flow]
    version: str
    base_dir: Path
    sources: dict[str, Path] = field(default_factory=dict)
    raws: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    # recordings of the dialog's generated prompts present at load time
    # ("prompts/nan-TW/menu.menu.keys1.wav"; see ivr/dialog/policy.py)
    recordings: frozenset[str] = frozenset()

    def __getitem__(self, flow_id: str) -> Flow:
        return self.flows[flow_id]

    def __contains__(self, flow_id: object) -> bool:
        return flow_id in self.flows

    def step(self, flow_id: str, step_id: str) -> Step:
        flow = self.flows[flow_id]
        return flow.steps[flow.step_index()[step_id]]

    # A fixed set is a FlowSource (ivr.dialog.source) that never changes.
    def current(self) -> FlowSet:
        return self

    def get(self, version: str) -> FlowSet | None:
        return self if version == self.version else None


def flow_files(directory: Path) -> list[Path]:
    """Flow files of a directory; names starting with '_' hold settings, not flows."""
    return sorted(p for p in directory.iterdir()
                  if p.suffix in (".yaml", ".yml") and not p.name.startswith("_") and p.is_file())


def content_version(paths: Collection[Path]) -> str:
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(p.name.encode() + b"\0")
        h.update(p.read_bytes() + b"\0")
    return h.hexdigest()[:12]


def _loc_text(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _clean_loc(loc: tuple) -> tuple:
    # pydantic inserts the union tag (steps, 3, 'collect', 'prompt'); drop it,
    # and the 'str'/'PromptText' branch names of str|model unions.
    out = []
    for i, part in enumerate(loc):
        if i == 2 and loc[0] == "steps" and part in STEP_KINDS:
            continue
        if part in ("str", "PromptText", "HandoffSpec", "list[Rule]", "int", "bool", "function-after[_shape(), Rule]"):
            continue
        if isinstance(part, str) and part.startswith(("function-", "literal[")):
            continue
        out.append(part)
    return tuple(out)


def parse_text(text: str, where: str) -> ParsedFlow:
    path = Path(where)
    try:
        raw = load_yaml_text(text, where)
    except YamlLimitError:
        raise  # not a flow file at all: the caller stops (exit 2), like an unreadable file
    except FlowError as e:
        file, _, line = e.where.rpartition(":")
        return ParsedFlow(path, None, None, [Problem(file, int(line or 0), e.message)])
    if not isinstance(raw, LineDict):
        return ParsedFlow(path, raw, None, [Problem(where, 1, "a flow file must be a mapping with 'flow' and 'steps'")])
    try:
        flow = Flow.model_validate(raw)
    except ValidationError as e:
        seen: set[tuple[int, str]] = set()
        problems = []
        for err in e.errors():
            loc = _clean_loc(tuple(err["loc"]))
            msg = err["msg"].removeprefix("Value error, ")
            key = (line_of(raw, loc), f"{_loc_text(loc) or 'flow'}: {msg}")
            if key not in seen:
                seen.add(key)
                problems.append(Problem(where, *key))
        return ParsedFlow(path, raw, None, problems)
    return ParsedFlow(path, raw, flow)


def parse_file(path: Path) -> ParsedFlow:
    return parse_text(read_text(path), str(path))


def read_dir(directory: str | Path) -> tuple[list[ParsedFlow], Path]:
    d = Path(directory)
    if d.is_file():
        return [parse_file(d)], d.parent
    if not d.is_dir():
        raise FlowError("no such flows directory or file", str(d))
    return [parse_file(p) for p in flow_files(d)], d


def load_flows(directory: str | Path, backends: Collection[str] | None = None) -> FlowSet:
    """Load and validate every flow in ``directory``; the first problem is
    raised as a ``FlowError`` (``file:line: message``)."""
    from ivr.dialog.validate import validate_parsed

    parsed, base = read_dir(directory)
    problems = validate_parsed(parsed, base, backends)
    if problems:
        more = f" (and {len(problems) - 1} more; run 'ivr validate')" if len(problems) > 1 else ""
        p = problems[0]
        raise FlowError(p.message + more, f"{p.file}:{p.line}")
    flows = {pf.flow.flow: pf.flow for pf in parsed if pf.flow}
    if not flows:
        raise FlowError("no flow files (*.yaml) found", str(directory))
    return FlowSet(
        flows=flows,
        version=content_version([pf.path for pf in parsed]),
        base_dir=base.resolve(),
        sources={pf.flow.flow: pf.path for pf in parsed if pf.flow},
        raws={pf.flow.flow: pf.raw for pf in parsed if pf.flow},
        recordings=prompt_recordings(base),
    )


def prompt_recordings(base: Path) -> frozenset[str]:
    """``prompts/<language>/<key>.wav`` files under a flows directory (relative paths)."""
    root = base / "prompts"
    if not root.is_dir():
        return frozenset()
    return frozenset(p.relative_to(base).as_posix() for p in root.glob("*/*.wav") if p.is_file())
