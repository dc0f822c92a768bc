"""Customer value recognition: the shipped signals (flows/_value.yaml) on a
table of customers, their routes through the real flows and the real
handoff queue, the agent's screen pop, and one-line errors for a bad file."""
from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace

import pytest

from ivr.dialog import Conversation, Dialog
from ivr.errors import FlowError
from ivr.handoff import ContextBundle, HandoffService, open_store
from ivr.history import ValueModel
from tests.dialog.support import FLOWS, transfer

MODEL = ValueModel.load(FLOWS / "_value.yaml")


def facts(balance=0, products=("savings",), tenure=1, cancel=False, complaints=0, open_complaint=False):
    return {"balance": balance, "products": list(products), "products_count": len(products), "tenure_years": tenure,
            "cancel_requested": cancel, "complaints_90d": complaints, "open_complaint": open_complaint}


@pytest.mark.parametrize("customer,tier,priority,skip,reasons", [
    (facts(2_350_000, ("savings", "fund", "credit_card"), 14), "VIP", 8, True,
     ["存款 > 100 萬", "14 年客戶", "持有理財商品", "持有 3 項產品"]),
    (facts(1_200_000, tenure=10), "VIP", 8, True, ["存款 > 100 萬", "10 年客戶"]),
    (facts(1_200_000, tenure=2), "premium", 5, False, ["存款 > 100 萬"]),
    (facts(400_000, ("savings", "time_deposit"), 3), "premium", 5, False, ["存款 > 30 萬", "持有理財商品"]),
    (facts(8_800, tenure=31, cancel=True), "retention", 7, False, ["31 年客戶", "曾提出解約（流失風險）"]),
    (facts(50_000, complaints=2, open_complaint=True), "retention", 7, False, ["客訴未結案", "90 天內客訴 2 次"]),
    (facts(52_340, ("savings", "credit_card"), 7), "standard", 0, False, []),
    ({}, "standard", 0, False, []),  # nothing known: no signal fires, no crash on missing facts
])
def test_value_table(customer, tier, priority, skip, reasons):
    v = MODEL.score(customer)
    assert (v.tier, v.priority, v.skip_menu, list(v.reasons)) == (tier, priority, skip, reasons)
    if reasons:
        assert v.label == f"{tier}: {', '.join(reasons)}"


def route(flows, nlu, registry, caller, keys):
    """A call through the real flows ending in a handoff: (Transfer, dialog state)."""
    conv = Conversation(Dialog(flows, nlu), registry, caller=caller)
    conv.start()
    out = []
    for k in keys:
        out = conv.say(k[1:]) if k.startswith("~") else conv.key(k)
    t = transfer(out)
    assert t is not None, conv.log[-5:]
    return t, conv.state


async def enqueue(tmp_path, state, t):
    store = open_store(f"sqlite:///{tmp_path / 'queue.db'}")
    try:
        svc = HandoffService(store)
        bundle = ContextBundle.from_dialog(state, call_id="c1", caller_number=state.caller, reason=t.reason)
        ticket = await svc.transfer_call(t, bundle)
        return ticket, await svc.bundle(ticket)
    finally:
        store.close()


# (who, caller number, keys: language, ..., expected queue, reason, ticket priority)
ROUTES = [
    ("unknown caller asks for an agent", "0277001122", ["1", "0"], "T1", "caller_request", 3),
    ("standard, verified, asks for an agent", "0912345678", ["1", "1", "0740315#", "1234", "1", "0"],
     "T1", "caller_request", 4),
    # VIP recognized by caller id: offered an agent at once; not verified, so no verified-VIP boost
    ("VIP by caller id skips the menu", "0922333444", ["1", "1"], "T1", "vip_priority", 8),
    # VIP who chose self-service then asked for an agent: value floor 8 + verified-VIP boost 5
    ("VIP, verified, asks for an agent", "0922333444", ["1", "2", "1", "0790701#", "5678", "1", "0"],
     "T1", "caller_request", 13),
    ("churn risk with a complaint", "0933555777", ["1", "5", "~我要解約，你們服務太差"], "T3", "complaint", 7),
]


@pytest.mark.parametrize("who,caller,keys,queue,reason,priority", ROUTES, ids=[r[0] for r in ROUTES])
def test_routes_by_customer(flows, real_nlu, registry, tmp_path, who, caller, keys, queue, reason, priority):
    t, state = route(flows, real_nlu, registry, caller, keys)
    ticket, bundle = asyncio.run(enqueue(tmp_path, state, t))
    assert (ticket.queue, bundle.reason, ticket.priority) == (queue, reason, priority), who


def test_screen_pop_shows_value_and_last_contacts(flows, real_nlu, registry, history, tmp_path):
    rec = SimpleNamespace(call_id="earlier", transport="audiosocket", caller="0922333444",
                          started_wall=time.time() - 3 * 86400, duration=60.0, outcome="handed_off",
                          events=[{"kind": "transfer", "queue": "T1", "ticket": "t0"}])
    history.record_call(rec, {"slots": {"customer_id": 2}, "intent": "check_balance", "turns": []})
    history.wrap_up("earlier", "a07", "resolved", "已說明定存到期日，卡號 4111 1111 1111 1111")
    t, state = route(flows, real_nlu, registry, "0922333444", ["1", "2", "1", "0790701#", "5678", "1", "0"])
    _ticket, bundle = asyncio.run(enqueue(tmp_path, state, t))
    view = bundle.agent_view()
    assert view["value_label"].startswith("VIP: 存款 > 100 萬, 14 年客戶") and view["customer_tier"] == "VIP"
    last = view["recent_contacts"][0]
    assert (last["intent"], last["agent"], last["wrap_up"], last["number"]) == ("check_balance", "a07", "resolved",
                                                                               "*******444")
    assert "4111 1111 1111 1111" not in str(view) and "0922333444" not in str(bundle.redacted())
    assert "value" not in view["slots"] and "history" not in view["slots"]


@pytest.mark.parametrize("text,error", [
    ("signals: []\ntiers: []\n", "value model needs at least one tier"),
    ("signals:\n  - {id: a, when: 'balance >', points: 1, explain: x}\ntiers: [{name: s}]\n",
     ":2: signal 'a' 'when': condition 'balance >' is not valid"),
    ("signals:\n  - {id: a, when: 'x', points: many, explain: x}\ntiers: [{name: s}]\n",
     ":2: signal 'a': 'points' must be a whole number"),
    ("signals: []\ntiers:\n  - {name: s}\n  - {name: v, queue: T9}\n", ":4: tier 'v': queue 'T9' is not one of"),
    ("signals: []\ntiers: [{name: s}]\ncolour: red\n", ":3: unknown key(s) ['colour']"),
])
def test_bad_value_file_is_one_line_naming_file_and_line(tmp_path, text, error):
    p = tmp_path / "_value.yaml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(FlowError) as e:
        ValueModel.load(p)
    msg = str(e.value)
    assert "\n" not in msg and str(p) in msg and error in msg, msg
