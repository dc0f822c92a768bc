from __future__ import annotations

import json

import pytest

from ivr.handoff import ContextBundle, HandoffError

from .helpers import bundle


def test_round_trip_through_json():
    b = bundle("call-1", verified=True, verified_by="taiwan_id+dob", customer_id="A123456789",
               customer_name="王小明", slots={"taiwan_id": "A123456789", "amount": 5000})
    d = json.loads(json.dumps(b.to_dict(), ensure_ascii=False))
    assert ContextBundle.from_dict(d) == b


def test_redacted_masks_personal_data_everywhere():
    b = bundle("call-2", customer_id="A123456789", customer_name="王小明",
               slots={"taiwan_id": "A123456789", "card": "4111111111111111", "confirmed": True},
               transcript=(bundle("x").transcript[0],
                           type(bundle("x").transcript[0])(4.0, "caller", "我的身分證是A123456789，電話0912345678")))
    text = json.dumps(b.redacted(), ensure_ascii=False)
    for secret in ("A123456789", "0912345678", "4111111111111111", "王小明"):
        assert secret not in text, secret
    r = b.redacted()
    assert r["slots"]["confirmed"] is True and r["intent"] == "technical_support"
    assert r["caller_number"].endswith("78") and r["customer_name"].startswith("王")


def test_from_dict_rejects_bad_input_naming_the_field():
    with pytest.raises(HandoffError, match="unknown field"):
        ContextBundle.from_dict({"call_id": "c", "social_security": 1})
    with pytest.raises(HandoffError, match="transcript"):
        ContextBundle.from_dict({"call_id": "c", "transcript": [{"speaker": "bot"}]})
    with pytest.raises(HandoffError, match="call_id"):
        ContextBundle.from_dict({"call_id": ""})


def test_from_dialog_state_dict():
    state = {"language": "nan-TW", "intent": "report_card_loss", "slots": {"card_last4": "1234"},
             "verified": True, "verify_method": "pin", "path": ["main.menu", "card.loss"],
             "turns": [{"at": 1.0, "speaker": "caller", "text": "卡片毋見矣"}]}
    b = ContextBundle.from_dialog(state, call_id="c9", caller_number="0223456789", reason="card loss needs agent")
    assert (b.language, b.intent, b.verified, b.verified_by, b.path) == ("nan-TW", "report_card_loss", True, "pin",
                                                                          ("main.menu", "card.loss"))
    assert b.transcript[0].text == "卡片毋見矣"


def test_secret_slots_never_enter_the_bundle_and_agents_see_a_masked_id():
    from ivr.dialog import DialogState

    st = DialogState(call_id="c7", language="zh-TW", intent="reset_password", verified=True, verify_method="pin",
                     slots={"id_number": "A123456789", "pin": "7319", "new_pin": "8642", "amount": 5000},
                     secret_slots=["pin", "new_pin"],
                     turns=[{"t": 1.0, "step": "verify/ask_id", "text": "我的身分證是A123456789"},
                            {"t": 5.0, "step": "verify/ask_pin", "dtmf": "****"}])
    b = ContextBundle.from_dialog(st, call_id="c7", caller_number="0912345678", reason="verification_failed")
    stored = json.dumps(b.to_dict(), ensure_ascii=False)  # what the queue stores keep
    assert "7319" not in stored and "8642" not in stored and set(b.slots) == {"id_number", "amount"}
    view = b.agent_view()  # what the desktop shows
    assert view["slots"] == {"id_number": "A12****789", "amount": 5000}
    assert view["transcript"][0]["text"] == "我的身分證是A12****789"
    assert view["verified"] is True and view["verified_by"] == "pin" and view["caller_number"] == "0912345678"
    assert "A123456789" not in json.dumps(view, ensure_ascii=False)
    # the customer id of a bank that uses the national id is masked the same way
    assert ContextBundle(call_id="c8", customer_id="A123456789").agent_view()["customer_id"] == "A12****789"
