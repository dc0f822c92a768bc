"""Customer value recognition: a score from signals a flow designer defines
in YAML (``flows/_value.yaml``), a tier picked by that score, and the reasons
in words for the agent's screen ("VIP: 存款 > 100 萬, 10 年客戶").

Each signal is a condition in the flows' own safe expression language over
the customer's facts (balance, products, tenure, complaints from history,
churn signals) with the points it adds and how to explain it. Tiers are
tried in order; the first whose ``min`` the score reaches (and whose own
condition, if any, holds) gives the priority and whether the caller skips the
menu. ``ivr.handoff`` routes on the result (``ContextBundle.value_priority``)."""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ivr.dialog.conditions import ConditionError, evaluate, parse_condition
from ivr.errors import FlowError

VALUE_FILE = "_value.yaml"
_TEMPLATE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_QUEUES = ("T1", "T2", "T3", "TQ")


@dataclass(frozen=True)
class Signal:
    id: str
    when: str
    points: int
    explain: str


@dataclass(frozen=True)
class Tier:
    name: str
    min: int = 0
    priority: int = 0
    skip_menu: bool = False
    queue: str = "T1"
    when: str | None = None


@dataclass(frozen=True)
class CustomerValue:
    score: int
    tier: str
    priority: int
    skip_menu: bool
    queue: str
    reasons: tuple[str, ...]

    @property
    def label(self) -> str:
        """One line for the agent: ``VIP: 存款 > 100 萬, 10 年客戶``."""
        return f"{self.tier}: {', '.join(self.reasons)}" if self.reasons else self.tier

    def as_slot(self) -> dict[str, Any]:
        d = asdict(self)
        d["reasons"] = list(self.reasons)
        d["label"] = self.label
        return d


class ValueModel:
    def __init__(self, signals: list[Signal], tiers: list[Tier], where: str = VALUE_FILE) -> None:
        if not tiers:
            raise FlowError("value model needs at least one tier", where)
        self.signals, self.tiers = signals, tiers

    def score(self, facts: Mapping[str, Any]) -> CustomerValue:
        env = dict(facts)
        points, reasons = 0, []
        for s in self.signals:
            if evaluate(s.when, env):
                points += s.points
                reasons.append(_TEMPLATE.sub(lambda m: _shown(env.get(m.group(1))), s.explain))
        env["score"] = points
        for t in self.tiers:
            if points >= t.min and (t.when is None or evaluate(t.when, env)):
                return CustomerValue(points, t.name, t.priority, t.skip_menu, t.queue, tuple(reasons))
        last = self.tiers[-1]
        return CustomerValue(points, last.name, last.priority, last.skip_menu, last.queue, tuple(reasons))

    # -- loading -------------------------------------------------------------
    @classmethod
    def load(cls, path: str | Path) -> ValueModel:
        """Read a value file; every mistake is one error naming file:line."""
        from ivr.dialog.yaml_lines import load_yaml_file

        path = Path(path)
        try:
            doc: Any = load_yaml_file(path)
        except FlowError:
            raise
        except Exception as e:
            raise FlowError(f"cannot read value model: {str(e).splitlines()[0]}", str(path)) from None
        if not isinstance(doc, Mapping):
            raise FlowError("a value model is a mapping with 'signals' and 'tiers'", str(path))
        extra = set(doc) - {"signals", "tiers", "description"}
        if extra:
            raise FlowError(f"unknown key(s) {sorted(extra)} (signals, tiers, description)",
                            _where(path, doc, min(extra)))
        signals = [_signal(path, doc["signals"], i, s) for i, s in enumerate(_list(path, doc, "signals"))]
        tiers = [_tier(path, doc["tiers"], i, t) for i, t in enumerate(_list(path, doc, "tiers"))]
        return cls(signals, tiers, str(path))

    @classmethod
    def for_flows(cls, flows_dir: str | Path | None) -> ValueModel | None:
        """The value model beside the flows, if they have one."""
        if flows_dir is None:
            return None
        d = Path(flows_dir)
        p = (d if d.is_dir() else d.parent) / VALUE_FILE
        return cls.load(p) if p.is_file() else None


def _shown(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return "" if v is None else str(v)


def _where(path: Path, node: Any, key: Any = None) -> str:
    line = 0
    if key is not None:
        line = getattr(node, "key_lines", {}).get(key, 0)
    return f"{path}:{line}" if line else str(path)


def _list(path: Path, doc: Mapping[str, Any], key: str) -> list[Any]:
    v = doc.get(key)
    if not isinstance(v, list):
        raise FlowError(f"'{key}' must be a list", _where(path, doc, key) if key in doc else str(path))
    return v


def _item_where(path: Path, seq: Any, i: int) -> str:
    lines = getattr(seq, "item_lines", None)
    return f"{path}:{lines[i]}" if lines and i < len(lines) else str(path)


def _condition(src: Any, where: str, what: str) -> str:
    if not isinstance(src, str):
        raise FlowError(f"{what} must be a condition string", where)
    try:
        parse_condition(src)
    except ConditionError as e:
        raise FlowError(f"{what}: {e}", where) from None
    return src


def _signal(path: Path, seq: Any, i: int, raw: Any) -> Signal:
    where = _item_where(path, seq, i)
    if not isinstance(raw, Mapping):
        raise FlowError("a signal is a mapping {id, when, points, explain}", where)
    extra = set(raw) - {"id", "when", "points", "explain"}
    if extra:
        raise FlowError(f"signal has unknown key(s) {sorted(extra)}", where)
    sid = raw.get("id")
    if not isinstance(sid, str) or not sid:
        raise FlowError("signal needs an 'id'", where)
    points = raw.get("points")
    if not isinstance(points, int) or isinstance(points, bool):
        raise FlowError(f"signal '{sid}': 'points' must be a whole number", where)
    explain = raw.get("explain")
    if not isinstance(explain, str) or not explain:
        raise FlowError(f"signal '{sid}' needs 'explain' (what the agent reads)", where)
    return Signal(sid, _condition(raw.get("when"), where, f"signal '{sid}' 'when'"), points, explain)


def _tier(path: Path, seq: Any, i: int, raw: Any) -> Tier:
    where = _item_where(path, seq, i)
    if not isinstance(raw, Mapping):
        raise FlowError("a tier is a mapping {name, min, priority, skip_menu, queue, when}", where)
    extra = set(raw) - {"name", "min", "priority", "skip_menu", "queue", "when"}
    if extra:
        raise FlowError(f"tier has unknown key(s) {sorted(extra)}", where)
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise FlowError("tier needs a 'name'", where)
    lo, prio = raw.get("min", 0), raw.get("priority", 0)
    if not isinstance(lo, int) or isinstance(lo, bool):
        raise FlowError(f"tier '{name}': 'min' must be a whole number", where)
    if not isinstance(prio, int) or isinstance(prio, bool) or not 0 <= prio <= 99:
        raise FlowError(f"tier '{name}': 'priority' must be 0..99", where)
    skip = raw.get("skip_menu", False)
    if not isinstance(skip, bool):
        raise FlowError(f"tier '{name}': 'skip_menu' must be true or false", where)
    queue = raw.get("queue", "T1")
    if queue not in _QUEUES:
        raise FlowError(f"tier '{name}': queue {queue!r} is not one of {', '.join(_QUEUES)}", where)
    when = raw.get("when")
    return Tier(name, lo, prio, skip, queue, None if when is None else _condition(when, where, f"tier '{name}' 'when'"))
