"""The confirmation policy: a protective step (card block) is decided only by
a clear yes/no or key 1/2; anything else asks again, then asks for keys, then
goes to an agent. Never blocked, never cancelled, on a guess."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from ivr.backends.demo_bank import SEED_CUSTOMERS
from ivr.dialog import Conversation, Dialog
from ivr.dialog.models import CollectStep
from ivr.frames import UserInput

from .support import backends, listen, said, transfer

LIN = SEED_CUSTOMERS[2]
ASKED = "確定要掛失您的卡片嗎"


@pytest.fixture
def at_confirm(flows, real_nlu, registry):
    """A verified caller at card_loss/confirm_loss."""
    conv = Conversation(Dialog(flows, real_nlu), registry, caller=LIN[3])
    conv.start()
    conv.key("1")
    conv.key("3")
    conv.key("0471120")
    out = conv.key(LIN[2])
    assert said(out, ASKED) and listen(out).kind == "yes_no"
    return conv


@pytest.mark.parametrize("answer", ["是，確定要掛失", "嗯，要", "對啊，趕快幫我停卡"])
def test_colloquial_yes_blocks_the_card(at_confirm, bank, answer):
    out = at_confirm.say(answer)
    assert backends(out) == ["report_card_loss"] and bank.card_status(3) == "blocked"


def test_clear_no_cancels(at_confirm, bank):
    out = at_confirm.say("不要，先不要，我再想一下")
    assert said(out, "已取消掛失") and bank.card_status(3) == "active"


@pytest.mark.parametrize("unclear", [("say", "應該是吧"), ("say", "好，不用了"), ("say", "使得"), ("key", "3"),
                                     ("key", "5"), ("say", "我要查餘額")])
def test_anything_unclear_asks_again_and_takes_no_action(at_confirm, bank, unclear):
    kind, arg = unclear
    out = getattr(at_confirm, kind)(arg)
    assert backends(out) == [] and not said(out, "已取消掛失") and bank.card_status(3) == "active"
    assert said(out, ASKED) and listen(out).kind == "yes_no"
    assert at_confirm.state.turns[-1]["decision"] == "unclear"
    out = at_confirm.key("1")                      # then a clear key decides
    assert backends(out) == ["report_card_loss"] and bank.card_status(3) == "blocked"


def test_missed_yes_then_other_key_does_not_cancel(at_confirm, bank):
    """The held-out failure: a yes that was not understood, then a key that is not 1/2."""
    at_confirm.say("呃，應該要吧")
    out = at_confirm.key("9")
    assert not said(out, "已取消掛失") and bank.card_status(3) == "active" and said(out, ASKED)


def test_unclear_to_the_end_asks_for_keys_then_an_agent(at_confirm, bank):
    for _ in range(2):                             # card_loss: flow default retries 2
        out = at_confirm.say("可能吧")
        assert said(out, ASKED) and not transfer(out)
    out = at_confirm.say("我不確定")
    assert said(out, "請用電話按鍵回答") and listen(out).kind == "yes_no" and not transfer(out)
    out = at_confirm.silence()
    t = transfer(out)
    assert t is not None and t.reason.startswith("protective_unconfirmed")
    assert bank.card_status(3) == "active" and not said(out, "已取消掛失")
    # the card block was never called (customer_context: caller history, after the language and the PIN)
    assert backends(at_confirm.log) == ["customer_context", "identify_phone_birth", "verify_customer_pin",
                                        "customer_context"]


def test_keys_round_still_takes_a_clear_key(at_confirm, bank):
    for answer in ("可能吧", "大概吧", "不知道耶"):
        at_confirm.say(answer)
    out = at_confirm.key("1")
    assert backends(out) == ["report_card_loss"] and bank.card_status(3) == "blocked"


def test_protective_needs_a_yes_and_ends_in_a_handoff():
    base = {"id": "s", "collect": "x", "prompt": {"zh-TW": "?"}, "protective": True}
    CollectStep.model_validate({**base, "type": "yes_no"})
    CollectStep.model_validate({**base, "type": "amount", "confirm": {"zh-TW": "{x:amount}，對嗎？"}})
    with pytest.raises(ValidationError, match="protective needs type yes_no or a confirm prompt"):
        CollectStep.model_validate({**base, "type": "amount"})
    with pytest.raises(ValidationError, match="must end in a handoff"):
        CollectStep.model_validate({**base, "type": "yes_no", "on_exhausted": "cancelled"})


def test_menu_confirms_what_it_heard(flows, real_nlu, registry):
    """掛石 is only heard by sound: the menu asks, and a yes goes on to card loss."""
    conv = Conversation(Dialog(flows, real_nlu), registry, caller=LIN[3])
    conv.start()
    conv.key("1")
    out = conv.say("瓜石")
    assert said(out, "請問您是要掛失卡片嗎") and listen(out).kind == "yes_no"
    out = conv.say("對")
    assert listen(out).kind == "date" and conv.state.intent == "report_card_loss"


def test_menu_confirmation_no_asks_the_menu_again(flows, real_nlu, registry):
    conv = Conversation(Dialog(flows, real_nlu), registry, caller=LIN[3])
    conv.start()
    conv.key("1")
    conv.say("瓜石")
    out = conv.say("不是")
    assert said(out, "請說出您要辦理的服務") and listen(out).kind == "intent" and conv.state.intent is None


def _heard(conv, text: str, confidence: float):
    """A voice turn with the recognizer's own confidence in its transcript."""
    conv.t += 5.0
    return conv._feed(UserInput(text=text, confidence=confidence, timestamp=conv.t))


def test_a_misheard_no_does_not_cancel(at_confirm, bank):
    """The audio-run failure: a bare 嗯 heard by Whisper as 沒有 at confidence 0.26."""
    out = _heard(at_confirm, "沒有", 0.26)
    assert backends(out) == [] and not said(out, "已取消掛失") and bank.card_status(3) == "active"
    assert said(out, "我聽到的好像是「沒有」") and said(out, ASKED) and listen(out).kind == "yes_no"
    assert at_confirm.state.turns[-1]["decision"] == "unclear"
    out = at_confirm.key("1")
    assert backends(out) == ["report_card_loss"] and bank.card_status(3) == "blocked"


def test_a_misheard_yes_does_not_block(at_confirm, bank):
    out = _heard(at_confirm, "是的", 0.3)
    assert backends(out) == [] and bank.card_status(3) == "active" and said(out, "我聽到的好像是「是的」")


@pytest.mark.parametrize("confidence", [0.4, 0.65, 1.0])
def test_a_sure_transcript_decides(at_confirm, bank, confidence):
    out = _heard(at_confirm, "沒有", confidence)
    assert said(out, "已取消掛失") and bank.card_status(3) == "active"


def test_a_sound_alike_no_is_asked_back(at_confirm, bank):
    """撲退 sounds like 不對 (or 不是): asked as a question, not taken as the answer."""
    out = at_confirm.say("撲退")
    assert backends(out) == [] and not said(out, "已取消掛失") and bank.card_status(3) == "active"
    assert said(out, "我聽到的好像是「不") and said(out, ASKED)
    out = at_confirm.say("不對")
    assert said(out, "已取消掛失")


@pytest.mark.parametrize("answer", ["確定，就這樣", "可以，就這樣"])
def test_a_yes_that_ends_with_that_is_all_is_a_yes_not_a_goodbye(at_confirm, bank, answer):
    """就這樣 alone is goodbye; after a yes it closes the answer (the call must not end unblocked)."""
    out = at_confirm.say(answer)
    assert backends(out) == ["report_card_loss"] and bank.card_status(3) == "blocked"


def test_a_no_with_its_reason_is_a_no_not_a_goodbye(at_confirm, bank):
    out = at_confirm.say("沒有耶，卡找到了")
    assert said(out, "已取消掛失") and bank.card_status(3) == "active" and not at_confirm.ended
