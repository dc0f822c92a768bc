"""Which prompts still lack a recording in a language.

There is no Taiwanese voice: a nan-TW prompt without an ``audio:`` file is read
by the Mandarin voice. ``ivr say --missing nan-TW`` lists every such prompt of
the flows with its file and line, so a call centre knows exactly what to
record. (A named ``audio:`` file that does not exist is already refused by the
flow loader, so a named recording is a present one.)"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class MissingRecording:
    file: str
    line: int
    where: str  # flow/step/field path, e.g. "card_loss/confirm_loss/prompt"
    text: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.where}: {self.text}"


def _prompts(node: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Mapping[str, Any]]]:
    if isinstance(node, Mapping):
        if any(k in node for k in ("zh-TW", "nan-TW")):
            yield path, node
            return
        for k, v in node.items():
            yield from _prompts(v, (*path, str(k)))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            step_id = v.get("id") if isinstance(v, Mapping) else None
            yield from _prompts(v, (*path, step_id if isinstance(step_id, str) else str(i)))


def missing_recordings(flows_dir: str | Path, language: str) -> list[MissingRecording]:
    from ivr.dialog import load_flows

    fs = load_flows(flows_dir)
    out: list[MissingRecording] = []
    for flow_id in sorted(fs.raws):
        raw, source = fs.raws[flow_id], fs.sources.get(flow_id)
        for path, prompt in _prompts(raw, ()):
            value = prompt.get(language)
            if value is None:
                continue  # no prompt in this language: `ivr validate` reports that
            if isinstance(value, Mapping) and value.get("audio"):
                continue  # recorded
            text = value.get("text") if isinstance(value, Mapping) else value
            line = getattr(prompt, "key_lines", {}).get(language, getattr(prompt, "line", 0))
            where = "/".join((flow_id, *[p for p in path if p != "steps"]))
            out.append(MissingRecording(str(source or flow_id), int(line or 0), where, str(text)))
    out.extend(_generated(fs, language))
    return out


def _generated(fs: Any, language: str) -> list[MissingRecording]:
    """Prompts the dialog makes itself in ``language`` (keys menus, read-backs:
    ``ivr.dialog.policy``), recorded as ``prompts/<language>/<key>.wav`` in the flows."""
    from ivr.dialog.policy import generated_prompts
    from ivr.dialog.yaml_lines import line_of
    from ivr.nlu import Nlu

    out = []
    for g in generated_prompts(fs, language, Nlu.load().describe):
        rel = g.recording(language)
        if rel in fs.recordings:
            continue
        where = "/".join(g.key.split(".", 2))  # menu.menu.read_back.check_balance -> menu/menu/read_back.check_balance
        if g.step_index is None:
            file, line = "(dialog)", 0
        else:
            file = str(fs.sources.get(g.flow) or g.flow)
            line = line_of(fs.raws[g.flow], ("steps", g.step_index, "id"))
        out.append(MissingRecording(file, int(line or 0), f"{where} (generated: record {rel})", g.text))
    return out
