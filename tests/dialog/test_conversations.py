"""Scripted calls through every shipped flow, in Mandarin and Taiwanese, by
speech text and by DTMF, against the real NLU and the real demo bank."""
from __future__ import annotations

import pytest

from ivr.backends import BackendRegistry
from ivr.backends.demo_bank import SEED_CUSTOMERS
from ivr.dialog import Conversation, Dialog

from .support import backends, hangup, listen, said, says, transfer

WANG, CHEN, LIN = SEED_CUSTOMERS
MENU = {"zh-TW": "請說出您要辦理的服務", "nan-TW": "請講你欲辦的服務"}
MORE = {"zh-TW": "還有其他需要服務", "nan-TW": "閣有其他欲服務"}
BYE = {"zh-TW": "感謝您的來電", "nan-TW": "多謝你敲電話來"}


@pytest.fixture
def call(flows, real_nlu, registry):
    def make(caller: str = "", registry_=None) -> Conversation:
        conv = Conversation(Dialog(flows, real_nlu), registry_ or registry, caller=caller)
        conv.start()
        return conv
    return make


def choose(conv: Conversation, language: str, text: str):
    """Say a menu choice; a Taiwanese caller hears it read back and confirms with key 1."""
    out = conv.say(text)
    if language == "nan-TW":
        assert said(out, "你講的是") and said(out, "著請揤1") and listen(out).kind == "yes_no", says(out)
        out = conv.key("1")
    return out


def pick_language(conv: Conversation, language: str, by: str = "dtmf"):
    if by == "dtmf":
        return conv.key("1" if language == "zh-TW" else "2")
    return conv.say("國語" if language == "zh-TW" else "台語")


@pytest.mark.parametrize("language", ["zh-TW", "nan-TW"])
def test_balance_by_keys_caller_number_and_birth_date(call, language):
    """Caller number + birth date identify the customer (no ID to key) but do
    not verify: the balance is told only after the phone-banking PIN."""
    conv = call(caller=WANG[3])
    out = pick_language(conv, language)
    assert said(out, MENU[language]) and conv.state.language == language
    out = conv.key("1")
    assert listen(out).kind == "date" and listen(out).dtmf_max_digits == 8
    out = conv.key("0740315#")
    assert backends(out) == ["identify_phone_birth"] and not conv.state.verified
    assert listen(out).slot == "pin" and listen(out).dtmf_max_digits == 4
    assert not said(out, "五萬") and "balance" not in conv.state.slots and "customer_name" not in conv.state.slots
    out = conv.key(WANG[2])
    assert backends(out) == ["verify_customer_pin", "customer_context", "get_balance"]
    amount = "五萬兩千三百四十" + ("元" if language == "zh-TW" else "箍")
    assert said(out, amount), says(out)
    assert conv.state.verified and conv.state.verify_method == "caller_number_pin"
    assert said(out, MORE[language])
    out = conv.key("2")
    assert said(out, BYE[language]) and hangup(out).reason == "completed"
    st = conv.state
    assert st.intent == "check_balance" and st.slots["balance"] == WANG[5]
    assert "verify/ask_birth" in st.path and st.turns[-1]["dtmf"] == "2"


@pytest.mark.parametrize("language,utterance,id_text,pin", [
    ("zh-TW", "我想查一下帳戶餘額", "我的身分證是A一二三四五六七八九", "一二三四"),
    ("nan-TW", "我欲查存款賰偌濟", "A123456789", "1234"),
])
def test_balance_by_speech_id_and_pin(call, language, utterance, id_text, pin):
    conv = call(caller="")  # withheld number: ID + PIN
    pick_language(conv, language, by="speech")
    assert conv.state.language == language
    out = choose(conv, language, utterance)
    assert listen(out).kind == "taiwan_id" and listen(out).end_silence_ms >= 1000
    out = conv.say(id_text)
    assert listen(out).slot == "pin" and listen(out).dtmf_max_digits == 4
    out = conv.say(pin)
    if language == "nan-TW":  # a PIN said aloud is not used in Taiwanese (its policy): the caller keys it
        assert said(out, "密碼請毋通講出來") and said(out, "請改用電話的數字鍵揤") and not backends(out)
        out = conv.key("1234")
    assert conv.state.verify_method == "id_pin"
    assert said(out, "五萬兩千三百四十"), says(out)
    ctx = conv.state.context()  # what an agent would see: no PIN anywhere
    assert "pin" not in ctx["slots"] and ctx["slots"]["id_number"] == "A123456789"
    assert [t["text"] for t in ctx["turns"] if t["step"] == "verify/ask_pin" and "text" in t] == ["*" * len(pin)]


@pytest.mark.parametrize("language", ["zh-TW", "nan-TW"])
def test_password_reset_with_one_time_code(call, bank, language):
    conv = call()
    pick_language(conv, language)
    out = conv.key("2")
    assert listen(out).slot == "id_number"
    out = conv.key("10123456789")  # A = 10 on the keypad
    assert backends(out) == ["customer_by_id", "send_reset_code"]
    assert said(out, "六七八")  # the phone's last three digits
    out = conv.key("000000" if bank.last_code(1) != "000000" else "111111")
    assert said(out, "驗證碼不正確" if language == "zh-TW" else "驗證碼無正確")
    out = conv.key(bank.last_code(1))
    assert listen(out).slot == "new_pin"
    out = conv.key("8642")  # a new PIN is keyed twice, never read back
    assert listen(out).slot == "new_pin" and listen(out).kind == "digits" and listen(out).secret
    assert said(out, "再輸入一次" if language == "zh-TW" else "閣揤一擺") and not said(out, "八六四二")
    out = conv.key("8643")  # the two entries differ: start over
    assert said(out, "不一樣" if language == "zh-TW" else "無仝款") and listen(out).slot == "new_pin"
    conv.key("1111")
    out = conv.key("1111")
    assert said(out, "太簡單" if language == "zh-TW" else "傷簡單")
    conv.key("8642")
    out = conv.key("8642")
    assert said(out, "重設完成" if language == "zh-TW" else "重設好勢")
    assert "new_pin" in conv.state.secret_slots and "new_pin" not in conv.state.context()["slots"]
    keyed = [t.get("dtmf") for t in conv.state.turns if t["step"] == "password_reset/ask_new_pin"]
    assert keyed == ["****"] * 6
    assert conv.state.verify_method == "one_time_code"
    assert "customer_id" in bank.verify_id_pin(WANG[1], "8642")


def test_password_reset_code_retries_exhausted(call):
    conv = call()
    conv.key("1")
    conv.say("我忘記密碼了")
    conv.say("A123456789")
    for _ in range(2):
        out = conv.key("999999")
        assert listen(out).slot == "reset_code"
    out = conv.key("999999")
    t = transfer(out)
    assert t.queue == "T1" and t.reason == "reset_code_failed"
    assert conv.state.handoff_reason == "reset_code_failed" and conv.ended


@pytest.mark.parametrize("language,loss", [("zh-TW", "我的信用卡不見了要掛失"), ("nan-TW", "我的卡片拍毋見矣")])
def test_card_loss(call, bank, language, loss):
    conv = call(caller=LIN[3])
    pick_language(conv, language)
    out = choose(conv, language, loss)
    assert listen(out).kind == "date", says(out)
    out = conv.say("民國四十七年十一月二十日")
    assert listen(out).slot == "pin" and not said(out, LIN[0])   # identified, not yet verified
    out = conv.key(LIN[2])
    assert said(out, LIN[0]) and listen(out).kind == "yes_no" and listen(out).end_silence_ms <= 600
    out = conv.say("好" if language == "zh-TW" else "著")
    assert backends(out) == ["report_card_loss"]
    assert said(out, "三五七")  # card last four, read as digits
    assert bank.card_status(3) == "blocked"


def test_card_loss_cancelled(call, bank):
    conv = call(caller=LIN[3])
    conv.key("1")
    conv.key("3")
    conv.key("0471120")
    conv.key(LIN[2])
    out = conv.key("2")
    assert said(out, "已取消掛失") and bank.card_status(3) == "active"


@pytest.mark.parametrize("language", ["zh-TW", "nan-TW"])
def test_technical_support_goes_to_t2_with_issue(call, language):
    conv = call()
    pick_language(conv, language)
    out = conv.key("4")
    assert listen(out).kind == "free_text"
    out = conv.say("App一直登入失敗")
    t = transfer(out)
    assert t.queue == "T2" and t.reason == "technical_support" and t.priority == 3
    assert conv.state.slots["issue"] == "App一直登入失敗"


@pytest.mark.parametrize("language,text", [("zh-TW", "我要客訴"), ("nan-TW", "我欲投訴")])
def test_complaint_goes_to_t3(call, language, text):
    conv = call()
    pick_language(conv, language)
    out = choose(conv, language, text)
    assert listen(out).kind == "free_text", says(out)
    out = conv.silence()
    out = conv.silence()  # no description: transfer anyway, the agent will ask
    assert transfer(out).queue == "T3"


@pytest.mark.parametrize("language", ["zh-TW", "nan-TW"])
def test_agent_priority_higher_for_verified_high_value(call, language):
    plain = call()
    pick_language(plain, language)
    t_plain = transfer(plain.say("轉接專人"))
    assert t_plain.queue == "T1" and t_plain.priority == 3

    rich = call(caller=CHEN[3])
    pick_language(rich, language)
    rich.key("1")
    rich.key("0790701")
    rich.key(CHEN[2])
    assert rich.state.verified and rich.state.slots["balance"] == CHEN[5]
    rich.key("1")  # more help: back to the menu
    t_rich = transfer(rich.key("0"))
    # verified ranks above not verified here; the customer's value (flows/_value.yaml) is applied on top by
    # the handoff queue (tests/history/test_value.py: a verified VIP's ticket gets 13)
    assert t_rich.priority == 4 > t_plain.priority
    ctx = rich.state.context()
    # key 0 at the menu is a menu choice, like key 9: the screen pop says why the caller waits now
    assert ctx["verified"] and ctx["intent"] == "talk_to_agent" and ctx["reason"] == "caller_request"
    assert ctx["turns"][-1]["command"] == "agent" and "agent/transfer" in ctx["path"]
    assert ctx["slots"]["balance"] == CHEN[5] and "balance/tell" in ctx["path"]


@pytest.mark.parametrize("language", ["zh-TW", "nan-TW"])
@pytest.mark.parametrize("how", ["轉接專人", "我要跟真人講話", "key 0", "key 9"])
def test_agent_request_at_menu_records_intent(call, language, how):
    conv = call()
    pick_language(conv, language)
    out = conv.key(how[-1]) if how.startswith("key") else conv.say(how)
    t = transfer(out)
    assert t.queue == "T1" and "intent=talk_to_agent" in t.note
    ctx = conv.state.context()
    assert ctx["intent"] == "talk_to_agent" and ctx["reason"] == "caller_request"
    assert ctx["turns"][-1]["intent"] == "talk_to_agent"


@pytest.mark.parametrize("how", ["轉接專人", "key 0"])
def test_agent_request_mid_task_keeps_the_task_intent(call, how):
    conv = call(caller="")  # withheld number: the balance flow asks for the ID
    pick_language(conv, "zh-TW")
    out = conv.say("我要查餘額")
    assert listen(out).kind == "taiwan_id", says(out)
    out = conv.key(how[-1]) if how.startswith("key") else conv.say(how)
    assert transfer(out).queue == "T1"
    ctx = conv.state.context()
    assert ctx["intent"] == "check_balance" and ctx["reason"] == "caller_request"
    assert ctx["turns"][-1]["command"] == "agent" and "intent" not in ctx["turns"][-1]


def test_agent_request_before_any_choice_records_intent(call):
    conv = call()
    out = conv.say("轉接專人")  # at the language question, before the menu
    assert transfer(out).queue == "T1"
    assert conv.state.context()["intent"] == "talk_to_agent"


@pytest.mark.parametrize("language", ["zh-TW", "nan-TW"])
def test_no_input_and_no_match_then_exhausted(call, language):
    conv = call()
    pick_language(conv, language)
    out = conv.silence()
    assert said(out, "沒有聽到" if language == "zh-TW" else "無聽著")
    # Mandarin asks again; Taiwanese goes to keys after one miss, three choices at a time
    keys = "請改用電話揤號碼"
    if language == "zh-TW":
        assert said(out, MENU[language]) and not said(out, keys)
    else:
        assert said(out, keys) and said(out, "查餘額請揤1，重設密碼請揤2，掛失卡片請揤3，其他的選項請揤8。")
    out = conv.say("今天天氣很好我們去爬山吧")
    assert said(out, "沒有聽懂" if language == "zh-TW" else "無聽有")
    assert said(out, keys) == (language == "nan-TW")
    out = conv.say("嗯嗯嗯")
    t = transfer(out)
    assert t.queue == "T1" and t.reason == "menu_not_understood"
    assert [bool(x.get("no_input")) for x in conv.state.turns[-3:]] == [True, False, False]


def test_language_choice_times_out_to_mandarin(call):
    conv = call()
    conv.silence()
    out = conv.silence()
    assert said(out, MENU["zh-TW"]) and conv.state.language == "zh-TW"


def test_mid_call_language_switch_and_back(call):
    conv = call(caller=WANG[3])
    conv.key("1")
    out = conv.key("1")
    assert said(out, "請說出您的出生年月日")
    out = conv.say("我要講台語")
    assert conv.state.language == "nan-TW" and said(out, "請講你的出世年月日")
    assert listen(out).language == "nan-TW"
    out = conv.key("0740315")
    assert said(out, "請揤四位數的電話密碼")
    out = conv.key(WANG[2])
    assert said(out, "你的戶頭賰")
    out = conv.say("國語")
    assert conv.state.language == "zh-TW" and said(out, MORE["zh-TW"])


def test_repeat_and_main_menu_keys(call):
    conv = call(caller=WANG[3])
    conv.key("1")
    first = conv.key("1")
    again = conv.key("*")
    assert says(again) == says(first)
    out = conv.key("#")
    assert said(out, MENU["zh-TW"]) and conv.state.flow == "menu"
    out = conv.say("重聽")
    assert said(out, MENU["zh-TW"])


def test_backend_failure_hands_off(call, bank):
    reg = bank.register(BackendRegistry())
    reg.register("get_balance", lambda customer_id: 1 / 0)
    conv = call(caller=WANG[3], registry_=reg)
    conv.key("1")
    conv.key("1")
    conv.key("0740315")
    out = conv.key(WANG[2])
    t = transfer(out)
    assert t.reason == "balance_lookup_failed" and said(out, "系統暫時無法查詢餘額")
    assert conv.state.last_error.startswith("ZeroDivisionError")


def test_verification_backend_timeout_over_webhook(call, bank):
    import threading
    import time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Slow(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_POST(self):
            time.sleep(0.5)
            try:
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"{}")
            except (BrokenPipeError, ConnectionResetError):
                pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        reg = bank.register(BackendRegistry())
        reg.register_webhook("verify_id_pin", f"http://127.0.0.1:{srv.server_address[1]}/verify", timeout=0.1, retries=1)
        conv = call(registry_=reg)
        conv.key("2")
        conv.key("1")
        conv.say("A123456789")
        out = conv.key("1234")
        t = transfer(out)
        assert t.reason == "verification_backend_failure" and t.priority == 4
        assert "timeout" in conv.state.last_error and said(out, "系統這馬無法度驗證身分")
    finally:
        srv.shutdown()
        srv.server_close()


def test_wrong_pin_is_asked_again_and_a_right_one_verifies(call, bank):
    conv = call()
    conv.key("1")
    conv.key("1")
    conv.key("10123456789")
    for _ in range(2):
        out = conv.key("0000")
        assert not transfer(out) and said(out, "資料不正確，請重新輸入電話密碼") and listen(out).slot == "pin"
    assert bank.pin_failures(1) == (2, False)
    out = conv.key(WANG[2])
    assert conv.state.verify_method == "id_pin" and said(out, "五萬兩千三百四十")
    assert bank.pin_failures(1) == (0, False)   # a right PIN resets the bank's counter


@pytest.mark.parametrize("id_keys", ["10123456789", "10100000001"])   # a customer's ID; an ID that is no one's
def test_three_wrong_pins_lock_and_hand_off(call, bank, id_keys):
    conv = call()
    conv.key("1")
    conv.key("1")
    conv.key(id_keys)
    outs = [conv.key(pin) for pin in ("0000", "1111", "2222")]
    assert not any(transfer(o) for o in outs[:2])
    t = transfer(outs[2])
    assert t.reason == "pin_locked" and not conv.state.verified and said(outs[2], "密碼錯誤次數過多")
    # the caller hears the same thing whether the ID exists or not
    assert [says(o) for o in outs[:2]] == [["資料不正確，請重新輸入電話密碼。", "請輸入四位數電話密碼。"]] * 2
    assert "pin" not in conv.state.context()["slots"]
    if id_keys == "10123456789":
        assert bank.pin_failures(1) == (3, True)


@pytest.mark.parametrize("language,again", [("zh-TW", "密碼不正確，請重新輸入"), ("nan-TW", "密碼無正確，請閣揤一擺")])
def test_known_caller_wrong_pin_then_right_one(call, bank, language, again):
    conv = call(caller=CHEN[3])
    pick_language(conv, language)
    conv.key("3")
    conv.key("0790701")
    out = conv.key("0000")
    assert said(out, again) and listen(out).slot == "pin" and not conv.state.verified
    assert bank.pin_failures(2) == (1, False)
    out = conv.key(CHEN[2])
    assert conv.state.verify_method == "caller_number_pin" and said(out, CHEN[0]) and listen(out).kind == "yes_no"
    assert bank.pin_failures(2) == (0, False)


def test_lockout_is_kept_by_the_bank_across_calls(call, bank):
    """A lock set on one call holds on the next, by the other path too: the
    caller's number + birth date lead to the PIN, and the PIN is refused."""
    first = call()
    first.key("1")
    first.key("3")
    first.key("10123456789")
    for pin in ("0000", "1111", "2222"):
        out = first.key(pin)
    assert transfer(out).reason == "pin_locked"
    second = call(caller=WANG[3])
    second.key("1")
    second.key("1")
    second.key("0740315")
    out = second.key(WANG[2])
    assert transfer(out).reason == "pin_locked" and not second.state.verified and not said(out, "五萬")
    assert [(r["method"], r["result"]) for r in bank.audit_rows()][-2:] == [
        ("caller_number_birth_date", "identified"), ("caller_number_pin", "pin_locked")]


@pytest.mark.parametrize("language,bye", [("zh-TW", "再見"), ("nan-TW", "再會")])
def test_goodbye_command_ends_the_call(call, language, bye):
    conv = call()
    pick_language(conv, language)
    out = conv.say(bye)
    assert hangup(out).reason == "caller_goodbye" and said(out, BYE[language]) and conv.ended


def test_listen_carries_recognizer_hints(call, real_nlu):
    conv = call(caller=WANG[3])
    out = conv.key("2")
    hints = listen(out).expected
    # the step's own phrases plus the NLU's examples of the menu intents, in Taiwanese
    assert set(real_nlu.expected_phrases(["check_balance"], "nan-TW")) <= set(hints)
    assert listen(out).language == "nan-TW" and listen(out).kind == "intent"
    out = conv.key("1")
    conv.key("0740315")
    out = conv.key(WANG[2])
    yes_no = listen(out)
    assert yes_no.kind == "yes_no" and set(real_nlu.expected_phrases("yes_no", "nan-TW")) <= set(yes_no.expected)
