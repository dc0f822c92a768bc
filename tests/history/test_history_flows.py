"""Flows branch on caller history and customer value: a repeat caller about an
unresolved matter goes straight back to its queue with priority; a VIP may skip
the menu. Real flows, real NLU, the real demo bank and history store."""
from __future__ import annotations

import time
from types import SimpleNamespace

import pytest

from ivr.backends.demo_bank import SEED_CUSTOMERS
from ivr.dialog import Conversation, Dialog
from ivr.dialog.conditions import evaluate
from tests.dialog.support import backends, listen, said, says, transfer

WANG, CHEN, LIN = SEED_CUSTOMERS
MENU = "請說出您要辦理的服務"


def past_call(history, call_id, caller, days_ago, intent, *, queue="", outcome="handed_off", customer=None):
    rec = SimpleNamespace(call_id=call_id, transport="audiosocket", caller=caller,
                          started_wall=time.time() - days_ago * 86400, duration=60.0, outcome=outcome,
                          events=[{"kind": "transfer", "queue": queue, "ticket": "t"}] if queue else [])
    slots = {"customer_id": customer} if customer else {}
    return history.record_call(rec, {"slots": slots, "intent": intent, "turns": []})


@pytest.fixture
def call(flows, real_nlu, registry):
    def make(caller: str) -> tuple[Conversation, list]:
        conv = Conversation(Dialog(flows, real_nlu), registry, caller=caller)
        return conv, conv.start()
    return make


def test_history_conditions_read_fields_safely():
    env = {"history": {"calls_7d": 3, "last_intent": "complaint", "open_complaint": True}}
    assert evaluate("history.calls_7d >= 2 and history.last_intent == 'complaint'", env)
    assert evaluate("history.open_complaint", env)
    assert not evaluate("history.calls_7d >= 2", {})  # no history loaded: simply false
    assert not evaluate("history.__class__", env)     # a mapping's fields only, never Python attributes


@pytest.mark.parametrize("intent,queue,label", [("complaint", "T3", "客訴"),
                                                ("technical_support", "T2", "網路銀行問題"),
                                                ("check_balance", "", "查詢餘額")])
def test_repeat_caller_goes_straight_to_the_queue_with_priority(call, history, intent, queue, label):
    past_call(history, "earlier", LIN[3], 2, intent, queue=queue, outcome="handed_off" if queue else "abandoned")
    conv, _ = call(LIN[3])
    out = conv.key("1")  # Mandarin
    assert "customer_context" in backends(conv.log)
    assert said(out, f"曾來電洽詢{label}") and listen(out).kind == "yes_no" and not said(out, MENU), says(out)
    t = transfer(conv.key("1"))
    assert (t.queue, t.reason, t.priority) == (queue or "T1", "repeat_unresolved", 7)
    assert conv.state.slots["history"]["repeat_intent"] == intent


def test_repeat_caller_with_something_else_gets_the_menu(call, history):
    past_call(history, "earlier", LIN[3], 1, "complaint", queue="T3")
    conv, _ = call(LIN[3])
    conv.key("1")
    out = conv.key("2")  # not the same matter
    assert said(out, MENU) and transfer(out) is None


@pytest.mark.parametrize("days_ago,wrap", [(8, None), (2, "resolved")])
def test_old_or_resolved_matters_are_not_repeats(call, history, days_ago, wrap):
    past_call(history, "earlier", WANG[3], days_ago, "complaint", queue="T3")
    if wrap:
        history.wrap_up("earlier", "a01", wrap)
    conv, _ = call(WANG[3])
    out = conv.key("1")
    assert said(out, MENU) and not said(out, "曾來電"), says(out)


def test_history_down_the_call_goes_on(flows, real_nlu, bank_path):
    from ivr.backends import default_registry

    reg = default_registry(None, bank_path)
    reg.register("customer_context", lambda **_: {"ok": False, "error": "history_down"})
    conv = Conversation(Dialog(flows, real_nlu), reg, caller=WANG[3])
    conv.start()
    assert said(conv.key("1"), MENU)


def test_vip_by_caller_id_may_skip_the_menu(call):
    conv, _ = call(CHEN[3])  # 存款 235 萬, 14 年, 4 products: VIP in flows/_value.yaml
    out = conv.key("1")
    assert said(out, "貴賓您好") and not said(out, MENU), says(out)
    t = transfer(conv.key("1"))
    assert (t.queue, t.reason, t.priority) == ("T1", "vip_priority", 8)
    assert conv.state.slots["value"]["label"].startswith("VIP: 存款 > 100 萬, 14 年客戶")
    assert not conv.state.verified  # recognized by the number only: the agent still verifies


def test_vip_who_wants_self_service_gets_the_menu(call):
    conv, _ = call(CHEN[3])
    conv.key("1")
    assert said(conv.key("2"), MENU)


def test_standard_caller_hears_the_menu_directly(call):
    conv, _ = call(WANG[3])
    out = conv.key("1")
    assert said(out, MENU) and not said(out, "貴賓")
    assert conv.state.slots["value"]["tier"] == "standard"


def test_verification_reloads_the_customers_own_history(call, history):
    # a complaint made from another phone: linked by the customer id, not the number
    past_call(history, "other-phone", "0255667788", 20, "complaint", queue="T3", customer=1)
    conv, _ = call(WANG[3])
    conv.key("1")
    assert conv.state.slots["history"]["calls_30d"] == 0   # this number has no calls
    conv.key("1")            # balance
    conv.key("0740315#")     # birth date: identified
    conv.key(WANG[2])        # PIN: verified
    h = conv.state.slots["history"]
    assert conv.state.verified and h["open_complaint"] and h["calls_30d"] == 1
    assert conv.state.slots["value"]["tier"] == "retention"  # an open complaint: reach them fast


def test_a_payment_reminder_carries_the_customers_history_to_the_collector(flows, real_nlu, registry, history):
    """Outbound: the campaign row names the customer; the flow loads their
    recent contacts and value so a transfer to a collector carries them."""
    from ivr.handoff import ContextBundle
    from ivr.outbound.actions import CampaignCalls

    past_call(history, "earlier", CHEN[3], 3, "complaint", queue="T3", customer="2")
    calls = CampaignCalls()
    calls.register(registry)
    calls.add("o9", "reminders", "X9", {"customer_name": "陳小姐", "amount": "4500", "due_date": "2026-12-18",
                                        "customer_id": "2"})

    class Session:
        def call(self, name, args):
            return registry.call(name, args, call_id="o9")

    conv = Conversation(Dialog(flows, real_nlu, start="payment_reminder"), Session(), call_id="o9", caller=CHEN[3])
    out = conv.start()
    assert "customer_context" in backends(conv.log) and said(out, "請問是陳小姐本人嗎"), says(out)
    recent = conv.state.slots["history"]["recent"]
    assert [c["intent"] for c in recent] == ["complaint"]
    bundle = ContextBundle.from_dialog(conv.state, call_id="o9", reason="collector")
    assert [c["intent"] for c in bundle.recent_contacts] == ["complaint"]
