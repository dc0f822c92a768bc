"""Branch conditions: a tiny, safe expression language over slot values.

``balance >= 1000000 and verified``, ``menu == 'check_balance'``,
``menu in ['complaint', 'technical_support']``, ``history.calls_7d >= 2`` (a
field of a slot that holds a mapping: ``None`` when absent). Parsed with Python's ``ast``
but only comparisons, boolean logic, names and literals are allowed, so a flow
file can never run code."""
from __future__ import annotations

import ast
import operator
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

_CMP = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b,
    ast.Is: operator.is_, ast.IsNot: operator.is_not,
}
_ALLOWED = (ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.Compare,
            ast.Name, ast.Attribute, ast.Load, ast.Constant, ast.List, ast.Tuple, ast.USub) + tuple(_CMP)


class ConditionError(ValueError):
    pass


@lru_cache(maxsize=512)
def parse_condition(src: str) -> ast.Expression:
    try:
        tree = ast.parse(src.strip(), mode="eval")
    except SyntaxError as e:
        raise ConditionError(f"condition {src!r} is not valid: {e.msg}") from None
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED):
            raise ConditionError(f"condition {src!r}: {type(node).__name__} is not allowed")
    return tree


def condition_names(src: str) -> set[str]:
    return {n.id for n in ast.walk(parse_condition(src)) if isinstance(n, ast.Name)}


def _eval(node: ast.AST, env: Mapping[str, Any]) -> Any:
    if isinstance(node, ast.Expression):
        return _eval(node.body, env)
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        if node.id in ("true", "True"):
            return True
        if node.id in ("false", "False"):
            return False
        if node.id in ("null", "None"):
            return None
        return env.get(node.id)
    if isinstance(node, ast.Attribute):
        base = _eval(node.value, env)
        return base.get(node.attr) if isinstance(base, Mapping) else None
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_eval(e, env) for e in node.elts]
    if isinstance(node, ast.UnaryOp):
        v = _eval(node.operand, env)
        return (not v) if isinstance(node.op, ast.Not) else -v
    if isinstance(node, ast.BoolOp):
        vals = (_eval(v, env) for v in node.values)
        return all(vals) if isinstance(node.op, ast.And) else any(vals)
    if isinstance(node, ast.Compare):
        left = _eval(node.left, env)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = _eval(right_node, env)
            try:
                ok = _CMP[type(op)](left, right)
            except TypeError:  # a missing slot (None) compared with a number is simply false
                return False
            if not ok:
                return False
            left = right
        return True
    raise ConditionError(f"cannot evaluate {type(node).__name__}")


def evaluate(src: str, env: Mapping[str, Any]) -> bool:
    return bool(_eval(parse_condition(src), env))
