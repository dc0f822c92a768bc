"""Dialog: YAML flows (models, JSON Schema, loader/validator), the pure flow
engine ``Dialog.step(state, event) -> (state, actions)``, hot reload, graphs."""
from ivr.dialog.conversation import Conversation
from ivr.dialog.engine import BUILTIN_PROMPTS, Dialog
from ivr.dialog.loader import FlowSet, Problem, load_flows
from ivr.dialog.models import Flow, Prompt, flow_json_schema
from ivr.dialog.seams import DialogStepper, FlowSource
from ivr.dialog.state import DialogState
from ivr.dialog.store import FlowStore
from ivr.dialog.validate import validate_dir

__all__ = ["BUILTIN_PROMPTS", "Conversation", "Dialog", "DialogState", "DialogStepper", "Flow", "FlowSet",
           "FlowSource", "FlowStore", "Problem", "Prompt", "flow_json_schema", "load_flows", "validate_dir",
           "write_schema"]


def write_schema(path) -> None:
    import json
    from pathlib import Path

    Path(path).write_text(json.dumps(flow_json_schema(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
