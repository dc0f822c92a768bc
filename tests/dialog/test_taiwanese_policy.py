"""The per-language dialog policy (ivr/dialog/policy.py): a Taiwanese call always
finishes, by voice or by keys, and is never routed on a guess. Real flows, the
real NLU and the real demo bank; Mandarin keeps its plain retry behaviour."""
from __future__ import annotations

import shutil
import wave

import pytest

from ivr.backends.demo_bank import SEED_CUSTOMERS
from ivr.dialog import Conversation, Dialog, DialogState, load_flows
from ivr.dialog.models import DEFAULT_POLICIES, Flow, LanguagePolicy
from ivr.dialog.policy import NLU_NAMED, generated_prompts
from ivr.frames import Say

from .support import FLOWS, backends, listen, said, says, transfer

WANG, CHEN, LIN = SEED_CUSTOMERS
PAGE1 = "查餘額請揤1，重設密碼請揤2，掛失卡片請揤3，其他的選項請揤8。"
PAGE2 = "處理網路銀行的問題請揤4，投訴請揤5，轉專人請揤9，閣聽一擺選項請揤8。"
USE_KEYS = "請改用電話揤號碼"


@pytest.fixture
def call(flows, real_nlu, registry):
    def make(caller: str = "", language: str = "nan-TW", flows_=None) -> Conversation:
        conv = Conversation(Dialog(flows_ or flows, real_nlu), registry, caller=caller, language=language)
        conv.start()
        return conv
    return make


def at_menu(call, language: str = "nan-TW", caller: str = "") -> tuple[Conversation, list]:
    conv = call(caller=caller, language=language)
    out = conv.key("2" if language == "nan-TW" else "1")
    assert conv.state.language == language and conv.state.step == "menu"
    return conv, out


def test_menu_offers_three_choices_at_a_time_and_key_8_pages(call):
    conv, out = at_menu(call)
    assert says(out)[-2:] == ["請講你欲辦的服務，抑是揤號碼。", PAGE1]
    out = conv.key("8")
    assert says(out) == [PAGE2] and listen(out).kind == "intent"
    assert conv.state.no_match == 0 and conv.state.no_input == 0  # paging is not a miss
    out = conv.key("8")
    assert says(out) == [PAGE1]
    out = conv.key("4")  # a key of another page still counts
    assert listen(out).kind == "free_text" and conv.state.intent == "technical_support"


def test_mandarin_menu_is_unchanged(call):
    conv, out = at_menu(call, "zh-TW")
    assert not any("請按8" in t for t in says(out)) and said(out, "客訴請按5")
    out = conv.key("8")  # not a choice in Mandarin: an ordinary no-match
    assert said(out, "沒有聽懂") and said(out, "請說出您要辦理的服務") and not said(out, "請改用電話")


def test_voice_choice_is_read_back_and_needs_key_1(call):
    conv, _ = at_menu(call, caller=WANG[3])
    out = conv.say("我欲查餘額")
    assert says(out) == ["你講的是查餘額，著請揤1，毋著請揤2。"]
    assert listen(out).kind == "yes_no" and conv.state.intent is None and "menu_choice" not in conv.state.slots
    assert conv.state.turns[-1]["read_back"] == "check_balance"
    out = conv.key("1")
    assert conv.state.intent == "check_balance" and listen(out).kind == "date"


def test_a_voice_yes_also_confirms_a_read_back(call):
    conv, _ = at_menu(call)
    conv.say("我的卡片拍毋見矣")
    out = conv.say("著")
    assert conv.state.intent == "report_card_loss", says(out)


def test_no_to_a_read_back_is_a_miss_and_goes_to_keys(call):
    conv, _ = at_menu(call)
    conv.say("我欲查餘額")
    out = conv.key("2")
    assert said(out, USE_KEYS) and said(out, PAGE1) and conv.state.keys_only
    assert "menu_choice" not in conv.state.slots and conv.state.intent is None
    out = conv.key("3")  # keys are never read back
    assert conv.state.intent == "report_card_loss" and listen(out).kind == "taiwan_id"  # withheld number


@pytest.mark.parametrize("miss", ["silence", "今仔日天氣真好", "嗯嗯嗯"])
def test_one_miss_switches_a_taiwanese_menu_to_keys(call, miss):
    conv, _ = at_menu(call)
    out = conv.silence() if miss == "silence" else conv.say(miss)
    assert said(out, USE_KEYS) and said(out, PAGE1) and listen(out).kind == "intent"
    assert not transfer(out) and conv.state.intent is None  # never routed on a guess
    out = conv.key("8")
    assert said(out, PAGE2)
    out = conv.key("9")
    assert transfer(out).queue == "T1" and conv.state.intent == "talk_to_agent"


def test_a_caller_who_never_answers_reaches_an_agent_not_a_wrong_service(call):
    conv, _ = at_menu(call)
    conv.say("今仔日天氣真好")
    conv.say("嗯嗯嗯")
    out = conv.silence()
    t = transfer(out)
    assert t is not None and t.reason == "menu_not_understood" and conv.state.intent is None


def test_mandarin_keeps_the_plain_reprompt(call):
    conv, _ = at_menu(call, "zh-TW")
    out = conv.silence()
    assert said(out, "請說出您要辦理的服務") and not said(out, "請改用電話")
    assert not conv.state.keys_only


def test_date_step_asks_for_keys_after_one_miss(call):
    conv, _ = at_menu(call, caller=WANG[3])
    conv.key("1")
    out = conv.say("我毋知")
    assert said(out, "請改用電話的數字鍵揤") and said(out, "請講你的出世年月日") and listen(out).kind == "date"
    out = conv.key("0740315#")
    assert backends(out) == ["identify_phone_birth"]


def test_yes_no_step_asks_for_keys_after_one_miss(call):
    conv, _ = at_menu(call, caller=WANG[3])
    conv.key("1")
    conv.key("0740315#")
    out = conv.key(WANG[2])
    assert said(out, "閣有其他欲服務")
    out = conv.silence()
    assert said(out, USE_KEYS) and said(out, "欲請揤1，無愛請揤2") and not said(out, "是請揤1，毋是請揤2")
    out = conv.key("2")
    assert said(out, "再會")


def test_language_choice_by_voice_is_not_read_back(call):
    conv = call(language="zh-TW")
    out = conv.say("台語")
    assert conv.state.language == "nan-TW" and said(out, PAGE1) and not said(out, "你講的是")


def test_protective_step_keeps_its_own_rules(call, bank):
    """Card blocking (protect.py) is not switched to keys after one miss: it asks again first."""
    conv, _ = at_menu(call, caller=LIN[3])
    conv.key("3")
    conv.key("0471120#")
    out = conv.key(LIN[2])
    assert listen(out).kind == "yes_no"
    out = conv.say("應該是吧")
    assert not said(out, USE_KEYS) and not backends(out) and bank.card_status(3) == "active"


def test_state_with_policy_fields_survives_json(call):
    conv, _ = at_menu(call)
    conv.silence()
    st = DialogState.from_json(conv.state.to_json())
    assert st.keys_only and st.menu_page == 0 and st == conv.state


def _flows_with_policy(tmp_path, policy: str):
    d = tmp_path / "flows"
    shutil.copytree(FLOWS, d)
    menu = d / "menu.yaml"
    text = menu.read_text(encoding="utf-8")
    menu.write_text(text.replace("steps:\n", f"defaults:\n  policy: {policy}\nsteps:\n", 1), encoding="utf-8")
    return load_flows(d)


def test_a_flow_can_tune_the_policy(call, tmp_path):
    fs = _flows_with_policy(tmp_path, "{nan-TW: {keys_after_misses: 2}, zh-TW: {keys_after_misses: 1}}")
    conv = call(language="nan-TW", flows_=fs)
    conv.key("2")
    out = conv.silence()  # two misses before keys now
    assert not said(out, USE_KEYS) and said(out, PAGE1)
    out = conv.silence()
    assert said(out, USE_KEYS)
    zh = call(language="zh-TW", flows_=fs)
    zh.key("1")
    out = zh.silence()
    assert said(out, "請改用電話按鍵選擇") and said(out, "查詢餘額請按1")  # zh-TW short menus stay off
    assert not said(out, "其他選項")


def test_policy_defaults_merge_field_by_field():
    flow = Flow.model_validate({"flow": "f", "defaults": {"policy": {"nan-TW": {"menu_size": 4}}},
                                "steps": [{"id": "e", "end": True}]})
    pol = flow.defaults.policy_for("nan-TW")
    assert pol.menu_size == 4 and pol.keys_after_misses == 1 and pol.read_back
    assert flow.defaults.policy_for("zh-TW") == DEFAULT_POLICIES["zh-TW"] == LanguagePolicy()


def test_generated_prompts_are_read_from_recordings_when_present(call, tmp_path, real_nlu):
    d = tmp_path / "flows"
    shutil.copytree(FLOWS, d)
    (d / "prompts" / "nan-TW").mkdir(parents=True)
    rec = d / "prompts" / "nan-TW" / "menu.menu.keys1.wav"
    with wave.open(str(rec), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\0\0" * 800)
    conv = call(flows_=load_flows(d))
    out = conv.key("2")
    page = next(a for a in out if isinstance(a, Say) and a.key == "menu.menu.keys1")
    assert page.audio == str(rec.resolve()) and page.text == PAGE1  # text stays: transcript and fallback
    out = conv.key("8")
    assert [a.audio for a in out if isinstance(a, Say)] == [None]  # page 2 not recorded yet
    keys = {g.key for g in generated_prompts(load_flows(d), "nan-TW", real_nlu.describe)}
    assert {"menu.menu.keys1", "menu.menu.keys2", "menu.menu.read_back.check_balance", "dialog.use_keys"} <= keys


def test_every_name_the_policy_expects_from_the_nlu_exists(real_nlu):
    for lang in ("zh-TW", "nan-TW"):
        assert all(real_nlu.describe(name, lang) for name in NLU_NAMED), lang


def test_say_missing_lists_generated_prompts_until_recorded(tmp_path):
    from ivr.prompts.missing import missing_recordings

    d = tmp_path / "flows"
    shutil.copytree(FLOWS, d)
    before = {m.where.split(" ")[0]: m for m in missing_recordings(d, "nan-TW")}
    page = before["menu/menu/keys1"]
    assert page.text == PAGE1 and page.file.endswith("menu.yaml") and page.line > 0
    assert "record prompts/nan-TW/menu.menu.keys1.wav" in page.where
    assert before["menu/menu/read_back.check_balance"].text == "你講的是查餘額，著請揤1，毋著請揤2。"
    assert before["dialog/use_keys"].text == "請改用電話揤號碼。"
    assert "menu/menu/keys1" not in {m.where.split(" ")[0] for m in missing_recordings(d, "zh-TW")}
    (d / "prompts" / "nan-TW").mkdir(parents=True)
    with wave.open(str(d / "prompts" / "nan-TW" / "menu.menu.keys1.wav"), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\0\0" * 80)
    after = {m.where.split(" ")[0] for m in missing_recordings(d, "nan-TW")}
    assert after == set(before) - {"menu/menu/keys1"}


def test_a_pin_said_aloud_in_taiwanese_is_never_sent_to_the_bank(call, bank):
    conv, _ = at_menu(call, caller=WANG[3])
    conv.key("1")
    conv.key("0740315#")
    out = conv.say("一二三四")
    assert said(out, "為著安全，密碼請毋通講出來。") and said(out, "請改用電話的數字鍵揤") and not backends(out)
    assert listen(out).slot == "pin" and listen(out).secret
    assert conv.state.turns[-1]["text"] == "****"  # still masked
    out = conv.key(WANG[2])
    assert backends(out)[0] == "verify_customer_pin" and "get_balance" in backends(out) and conv.state.verified


def test_mandarin_pins_by_voice_still_work(call):
    conv, _ = at_menu(call, "zh-TW", caller=WANG[3])
    conv.key("1")
    conv.key("0740315#")
    out = conv.say("".join("零一二三四五六七八九"[int(d)] for d in WANG[2]))
    assert backends(out)[:1] == ["verify_customer_pin"]
