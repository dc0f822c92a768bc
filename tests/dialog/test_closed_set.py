"""Accept / confirm / reject at menus, the language choice and plain yes/no
(ivr/dialog/closed_set.py): a transcript the recognizer is unsure of is asked
about ("請問您是要查詢餘額嗎？") or said back, never acted on silently. Pure
steps: events in, actions out, on a virtual clock (the Conversation's own)."""
from __future__ import annotations

import textwrap

import pytest

from ivr.backends.demo_bank import SEED_CUSTOMERS
from ivr.dialog import Conversation, Dialog, closed_set, load_flows
from ivr.dialog.closed_set import FLOORS, Floors, Reading, decide
from ivr.frames import CallStarted, UserInput

from .support import listen, said, says, transfer

LIN = SEED_CUSTOMERS[2]
MENU_PROMPT = "請說出您要辦理的服務"
ASK_BALANCE = "請問您是要查詢餘額嗎"
SURE = 0.95
# between the floors: worth a question, not an action
UNSURE = (FLOORS["intent"].confirm_asr + FLOORS["intent"].accept_asr) / 2
UNSURE_YES = (FLOORS["yes_no"].confirm_asr + FLOORS["yes_no"].accept_asr) / 2
# below the question floor: only said back
LOST_YES = FLOORS["yes_no"].confirm_asr / 2


def heard(conv: Conversation, text: str, confidence: float):
    conv.t += 5.0
    return conv._feed(UserInput(text=text, confidence=confidence, timestamp=conv.t))


@pytest.fixture
def at_menu(flows, real_nlu, registry):
    conv = Conversation(Dialog(flows, real_nlu), registry, caller=LIN[3])
    conv.start()
    out = conv.key("1")
    assert said(out, MENU_PROMPT) and listen(out).kind == "intent"
    return conv


# ------------------------------------------------------------ the decision alone
F = Floors(accept_asr=0.4, accept_nlu=0.6, accept_margin=0.2, confirm_asr=0.2)


@pytest.mark.parametrize("reading, outcome", [
    (Reading("check_balance", "accept", 0.9, 0.8, 0.9), "accept"),
    (Reading("check_balance", "accept", 0.9, 0.8, 0.3), "confirm"),   # recognizer unsure
    (Reading("check_balance", "accept", 0.5, 0.8, 0.9), "confirm"),   # NLU unsure
    (Reading("check_balance", "accept", 0.9, 0.1, 0.9), "confirm"),   # a close runner-up
    (Reading("check_balance", "confirm", 0.3, 0.8, 0.9), "confirm"),  # the NLU's own question stays one
    (Reading("check_balance", "accept", 0.9, 0.8, 0.1), "reject"),    # too unsure to ask about
    (Reading(None, "reject", 0.0, 0.0, 1.0), "reject"),
    (Reading(True, "accept", 0.95, 1.0, 0.4), "accept"),              # exactly on the floors
])
def test_decide(reading, outcome):
    assert decide(reading, F) == outcome


# ------------------------------------------------------------ the menu
def test_a_sure_answer_is_acted_on(at_menu):
    out = heard(at_menu, "我要查餘額", SURE)
    assert not said(out, ASK_BALANCE) and at_menu.state.intent == "check_balance"
    assert at_menu.state.turns[-1]["decision"] == "accept"


def test_text_without_a_recognizer_is_sure(at_menu):
    """ivr chat and the scripted tests: reference text has confidence 1.0."""
    out = at_menu.say("我要查餘額")
    assert not said(out, ASK_BALANCE) and at_menu.state.intent == "check_balance"


def test_an_unsure_answer_is_asked_about_and_yes_acts(at_menu):
    out = heard(at_menu, "我要查餘額", UNSURE)
    assert said(out, ASK_BALANCE) and listen(out).kind == "yes_no" and at_menu.state.intent is None
    assert at_menu.state.turns[-1]["decision"] == "confirm"
    heard(at_menu, "對", SURE)
    assert at_menu.state.intent == "check_balance"


def test_the_question_says_which_keys_answer_it(at_menu):
    """After a doubtful answer the caller may go on by keys: the question says 1 is yes,
    2 is no (the menu had just given those keys other services)."""
    out = heard(at_menu, "我要查餘額", UNSURE)
    assert said(out, ASK_BALANCE + "？是請按1，不是請按2")
    at_menu.key("1")
    assert at_menu.state.intent == "check_balance"


def test_key_2_at_the_question_asks_the_menu_again(at_menu):
    heard(at_menu, "我要查餘額", UNSURE)
    out = at_menu.key("2")
    assert said(out, MENU_PROMPT) and at_menu.state.intent is None


def test_an_unsure_answer_then_no_asks_the_menu_again(at_menu):
    heard(at_menu, "我要查餘額", UNSURE)
    out = heard(at_menu, "不是", SURE)
    assert said(out, MENU_PROMPT) and listen(out).kind == "intent" and at_menu.state.intent is None


def test_a_misheard_yes_to_the_question_does_not_act(at_menu):
    heard(at_menu, "我要查餘額", UNSURE)
    out = heard(at_menu, "對", LOST_YES)
    assert at_menu.state.intent is None and said(out, "我聽到的好像是「對」") and said(out, ASK_BALANCE)
    heard(at_menu, "對", SURE)
    assert at_menu.state.intent == "check_balance"


@pytest.fixture
def menu_floor(monkeypatch):
    """A menu with a question floor (the built-in one asks about any answer it read)."""
    monkeypatch.setitem(closed_set.FLOORS, "intent", Floors(accept_asr=0.4, accept_nlu=0.45, accept_margin=0.0,
                                                            confirm_asr=0.2))
    return 0.1


def test_a_lost_answer_is_said_back_and_the_menu_asked_again(at_menu, menu_floor):
    out = heard(at_menu, "我要查餘額", menu_floor)
    assert said(out, "我聽到的好像是「我要查餘額」") and said(out, MENU_PROMPT) and not said(out, ASK_BALANCE)
    assert at_menu.state.intent is None and at_menu.state.turns[-1]["decision"] == "reject"


def test_nothing_understood_is_an_ordinary_no_match(at_menu):
    out = heard(at_menu, "我要", SURE)  # a bare request: no intent (ivr/nlu/scope.py)
    assert said(out, "我沒有聽懂您要辦理的服務") and not said(out, "我聽到的好像是")
    assert at_menu.state.unsure == 0


def test_unsure_to_the_end_asks_for_keys_then_an_agent(at_menu):
    for _ in range(2):  # menu: retries 2
        out = heard(at_menu, "我要查餘額", UNSURE)
        assert said(out, ASK_BALANCE) and not transfer(out)
        out = heard(at_menu, "不是", SURE)
        assert said(out, MENU_PROMPT) and not transfer(out)
    heard(at_menu, "我要查餘額", UNSURE)
    out = heard(at_menu, "不是", SURE)
    assert said(out, "請改用電話按鍵選擇") and listen(out).kind == "intent" and not transfer(out)
    out = at_menu.silence()
    t = transfer(out)
    assert t is not None and t.reason == "menu_not_understood" and at_menu.state.intent is None


def test_lost_answers_to_the_end_ask_for_keys_too(at_menu, menu_floor):
    for _ in range(3):
        out = heard(at_menu, "我要查餘額", menu_floor)
    assert said(out, "請改用電話按鍵選擇") and not transfer(out)
    at_menu.key("1")
    assert at_menu.state.intent == "check_balance"


def test_misses_without_an_unsure_answer_hand_off_as_before(at_menu):
    for _ in range(2):
        at_menu.say("今天天氣很好")
    out = at_menu.say("今天天氣很好")
    t = transfer(out)
    assert t is not None and t.reason == "menu_not_understood" and not said(out, "請改用電話按鍵選擇")


def test_a_taiwanese_call_keeps_its_own_policy(flows, real_nlu, registry):
    """The floors are on Whisper's scale: a nan-TW turn (a grammar recognizer) is read back as before."""
    conv = Conversation(Dialog(flows, real_nlu), registry, caller=LIN[3])
    conv.start()
    conv.key("2")
    out = heard(conv, "查餘額", UNSURE)
    assert not said(out, "我聽到的好像是") and "decision" not in conv.state.turns[-1]


# ------------------------------------------------------------ the language choice
def test_an_unsure_language_choice_is_asked_about(flows, real_nlu, registry):
    conv = Conversation(Dialog(flows, real_nlu), registry, caller=LIN[3])
    conv.start()
    out = heard(conv, "我要講台語", UNSURE)
    assert said(out, "請問您是要用台語嗎") and conv.state.language == "zh-TW"
    heard(conv, "對", SURE)
    assert conv.state.language == "nan-TW"


def test_a_sure_language_choice_is_taken(flows, real_nlu, registry):
    conv = Conversation(Dialog(flows, real_nlu), registry, caller=LIN[3])
    conv.start()
    heard(conv, "我要講台語", SURE)
    assert conv.state.language == "nan-TW"


# ------------------------------------------------------------ a plain yes/no
@pytest.fixture
def yes_no_dialog(tmp_path, real_nlu):
    (tmp_path / "main.yaml").write_text(textwrap.dedent("""\
        flow: main
        steps:
          - id: ask
            collect: want
            type: yes_no
            prompt: {zh-TW: 要寄簡訊給您嗎？, nan-TW: 欲寄簡訊予你無？}
            retries: 1
            on_exhausted: {queue: T1, reason: not_sure}
          - id: done
            end: true
            prompt: {zh-TW: "好的，{want}。", nan-TW: "好，{want}。"}
        """), encoding="utf-8")
    return Dialog(load_flows(tmp_path), real_nlu)


def test_a_sure_yes_no_is_taken(yes_no_dialog):
    st, _ = yes_no_dialog.step(None, CallStarted(call_id="y"))
    st, out = yes_no_dialog.step(st, UserInput(text="不用", confidence=SURE))
    assert st.slots["want"] is False and st.ended and said(out, "好的，否")


def test_an_unsure_yes_no_is_said_back_and_asked_again(yes_no_dialog):
    st, _ = yes_no_dialog.step(None, CallStarted(call_id="y"))
    st, out = yes_no_dialog.step(st, UserInput(text="不用", confidence=UNSURE_YES))
    assert "want" not in st.slots and said(out, "我聽到的好像是「不用」") and said(out, "要寄簡訊給您嗎")
    st, out = yes_no_dialog.step(st, UserInput(text="不用", confidence=LOST_YES))
    assert said(out, "請改用電話按鍵選擇") and said(out, "是請按1") and "want" not in st.slots
    st, out = yes_no_dialog.step(st, UserInput(dtmf="2"))
    assert st.slots["want"] is False


def test_the_step_is_pure(yes_no_dialog):
    st, _ = yes_no_dialog.step(None, CallStarted(call_id="y"))
    before = st.to_json()
    ev = UserInput(text="好", confidence=UNSURE, timestamp=3.0)
    a = yes_no_dialog.step(st, ev)
    b = yes_no_dialog.step(st, ev)
    assert st.to_json() == before and a[0].to_json() == b[0].to_json() and a[1] == b[1]


# ------------------------------------------------------------ commands that move the caller
@pytest.mark.parametrize("text, command", [("請幫我轉人工", "agent"), ("我要講台語", "lang_nan"),
                                           ("回主選單", "main_menu")])
def test_an_unsure_moving_command_is_asked_again_not_acted_on(at_menu, text, command):
    """Mid-call, a language switch, back-to-menu or agent request heard by an
    unsure recognizer asks again in the caller's language, saying what it heard."""
    heard(at_menu, "我要查餘額", SURE)
    language, flow_before = at_menu.state.language, list(at_menu.state.path)
    out = heard(at_menu, text, FLOORS["intent"].accept_asr / 2)
    turn = at_menu.state.turns[-1]
    assert turn["command"] == command and turn["decision"] == "reject"
    assert at_menu.state.language == language and not transfer(out)
    assert list(at_menu.state.path)[: len(flow_before)] == flow_before
    assert listen(out) is not None


@pytest.mark.parametrize("text, command", [("請幫我轉人工", "agent"), ("我要講台語", "lang_nan")])
def test_a_sure_moving_command_is_acted_on(at_menu, text, command):
    heard(at_menu, "我要查餘額", SURE)
    out = heard(at_menu, text, SURE)
    turn = at_menu.state.turns[-1]
    assert turn["command"] == command and turn.get("decision") != "reject"
    if command == "lang_nan":
        assert at_menu.state.language == "nan-TW"
    else:
        assert transfer(out) or at_menu.state.path[-1][0] == "agent", (says(out), at_menu.state.path)
