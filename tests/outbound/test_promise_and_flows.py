"""Promise-to-pay dates (said or keyed) and the outbound flows end to end,
with the contact's row registered by a dialer as a real one would."""
from __future__ import annotations

import datetime as dt

import pytest

from ivr.outbound.actions import CampaignCalls
from ivr.outbound.promise import from_keys, from_speech

TUE = dt.date(2026, 12, 1)


@pytest.mark.parametrize("said,day", [
    ("十二月二十號", "2026-12-20"), ("12月20日", "2026-12-20"), ("一月三號", "2027-01-03"),
    ("明天", "2026-12-02"), ("後天", "2026-12-03"), ("大後天", "2026-12-04"), ("下禮拜五", "2026-12-11"),
    ("這週五", "2026-12-04"), ("下個星期三", "2026-12-09"), ("月底", "2026-12-31"), ("十天後", "2026-12-11"),
    ("二十號", "2026-12-20"), ("民國一一五年十二月二十日", "2026-12-20"), ("明仔載", "2026-12-02"),
    ("後日", "2026-12-03"), ("我再想想", None), ("十三月一號", None),
])
def test_promise_date_by_voice(said, day):
    got = from_speech(said, TUE)
    assert (got.isoformat() if got else None) == day


@pytest.mark.parametrize("keys,day", [("1220", "2026-12-20"), ("0105#", "2027-01-05"), ("20261224", "2026-12-24"),
                                      ("1151224", "2026-12-24"), ("1340", None), ("12", None)])
def test_promise_date_by_keys(keys, day):
    got = from_keys(keys, TUE)
    assert (got.isoformat() if got else None) == day


def test_promise_date_action_checks_the_range():
    noon = dt.datetime(2026, 12, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=8))).timestamp()
    calls = CampaignCalls(now=lambda: noon)
    assert calls.promise_date(text="下禮拜五", due_date="2026-12-15") == {"promise_date": "2026-12-11"}
    assert calls.promise_date(keys="1120", due_date="2026-12-15")["error"] == "too_late"   # next Nov 20
    assert calls.promise_date(keys="20261130")["error"] == "in_the_past"
    assert calls.promise_date(text="嗯", due_date="2026-12-15")["error"] == "not_a_date"
    assert calls.campaign_outcome("nonsense", call_id="c1")["ok"] is False


@pytest.fixture
def outbound(flows, real_nlu, registry):
    from ivr.dialog import Conversation, Dialog

    calls = CampaignCalls()
    calls.register(registry)  # the dialer's own: what it registered before placing the call

    class Session:  # what the session does: backends are told the serving call's id
        def __init__(self, call_id):
            self.call_id = call_id

        def call(self, name, args):
            return registry.call(name, args, call_id=self.call_id)

    def make(flow, call_id, variables, number="0911000001"):
        calls.add(call_id, "test", "X1", variables)
        conv = Conversation(Dialog(flows, real_nlu, start=flow), Session(call_id), call_id=call_id, caller=number)
        return conv, conv.start(), calls
    return make


def test_payment_reminder_reads_the_csv_row_and_records_the_promise(outbound):
    from tests.dialog.support import hangup, said

    conv, out, calls = outbound("payment_reminder", "o1", {"customer_name": "張先生", "amount": "4500",
                                                          "due_date": "2026-12-18", "customer_id": ""})
    assert said(out, "請問是張先生本人嗎")
    out = conv.key("1")
    assert said(out, "應繳金額為四千五百元") and said(out, "繳款期限是二零二六年十二月十八日"), out
    conv.key("1")
    conv.say("下禮拜五")
    out = conv.key("1")
    assert hangup(out) is not None and conv.state.slots["call_result"] == "promised_to_pay"
    assert calls.pop("o1")["result"] == "promised_to_pay"


def test_payment_reminder_tells_nothing_to_someone_else(outbound):
    from tests.dialog.support import said, says

    conv, _, calls = outbound("payment_reminder", "o2", {"customer_name": "張先生", "amount": "4500",
                                                        "due_date": "2026-12-18", "customer_id": ""})
    out = conv.key("2")
    assert not said(out, "四千五百") and not said(out, "繳款") and said(out, "不好意思打擾"), says(out)
    assert calls.pop("o2") == {"result": "wrong_person", "promise_date": ""}


def test_fraud_alert_blocks_the_card_on_a_clear_no(outbound, bank):
    from tests.dialog.support import said, transfer

    conv, _, calls = outbound("fraud_alert", "o3", {"customer_name": "林阿土", "customer_id": "3",
                                                   "card_last4": "1357", "merchant": "海外網路商店",
                                                   "txn_amount": "28800"})
    out = conv.key("1")
    assert said(out, "尾號么三五七的信用卡")  # digits read as on the phone: 1 = 么 and said(out, "兩萬八千八百元"), out
    assert bank.card_status(3) == "active"
    t = transfer(conv.say("不是我"))
    assert t.reason == "fraud_dispute" and bank.card_status(3) == "blocked"
    assert calls.pop("o3")["result"] == "blocked"
