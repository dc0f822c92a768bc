"""Backends the flows call by name: Python callables, HTTP webhooks, and the
SQLite demo bank the shipped flows use."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ivr.backends.registry import BackendRegistry
from ivr.backends.webhook import Webhook
from ivr.errors import FlowError

if TYPE_CHECKING:
    from ivr.history import CallerHistory

WEBHOOKS_FILE = "_backends.yaml"


def load_webhooks(registry: BackendRegistry, flows_dir: str | Path) -> BackendRegistry:
    """Register the webhooks listed in ``<flows>/_backends.yaml``:
    ``webhooks: {name: {url, timeout, retries, headers}}``."""
    from ivr.dialog.yaml_lines import load_yaml_file

    path = Path(flows_dir) / WEBHOOKS_FILE
    if not path.is_file():
        return registry
    doc: Any = load_yaml_file(path) or {}
    hooks = doc.get("webhooks", {}) if isinstance(doc, dict) else None
    if not isinstance(hooks, dict):
        raise FlowError("'webhooks' must be a mapping of name -> {url, timeout, retries}", str(path))
    for name, spec in hooks.items():
        if not isinstance(spec, dict) or not isinstance(spec.get("url"), str):
            line = getattr(hooks, "key_lines", {}).get(name, 0)
            raise FlowError(f"webhook '{name}' needs a 'url'", f"{path}:{line}")
        registry.register_webhook(name, spec["url"], timeout=float(spec.get("timeout", 3.0)),
                                  retries=int(spec.get("retries", 1)), headers=spec.get("headers"))
    return registry


def default_registry(flows_dir: str | Path | None = None, bank_path: str | Path | None = None,
                     history: CallerHistory | None = None) -> BackendRegistry:
    """The demo bank, the caller-history/value action (``customer_context``,
    on ``history``, else the default history store beside the bank, opened on
    first use; value model beside the flows) and any webhooks configured beside
    the flows."""
    from ivr.backends.demo_bank import DemoBank
    from ivr.history import CallerHistory, ContextActions, ValueModel, default_history_store

    bank = DemoBank(bank_path)
    registry = bank.register(BackendRegistry())
    ContextActions((lambda: history) if history is not None else
                   (lambda: CallerHistory.open(default_history_store(bank.path))), bank.customer_profile,
                   ValueModel.for_flows(flows_dir)).register(registry)
    from ivr.outbound.actions import CampaignCalls

    # outbound flows' data: a dialer registers its own CampaignCalls (same names); without one, the bank's
    CampaignCalls(directory=bank.outbound_facts).register(registry)
    if flows_dir is not None:
        d = Path(flows_dir)
        load_webhooks(registry, d if d.is_dir() else d.parent)
    return registry


__all__ = ["BackendRegistry", "Webhook", "default_registry", "load_webhooks"]
