"""Engine properties: purity, JSON round trip mid-call, hot reload keeping the
old version for calls in flight, the step-limit breaker, recordings."""
from __future__ import annotations

import json
import os
import textwrap

import pytest

from ivr.dialog import Conversation, Dialog, DialogState, FlowStore, load_flows
from ivr.errors import FlowError
from ivr.frames import ActionResult, CallBackend, CallEnded, CallStarted, NoInput, Say, UserInput

from .support import FLOWS, listen, said, says, transfer


def test_step_is_pure(flows, fake_nlu):
    d = Dialog(flows, fake_nlu)
    st, _ = d.step(None, CallStarted(call_id="c1", caller="0912345678"))
    before = st.to_json()
    st2, a1 = d.step(st, UserInput(dtmf="1"))
    assert st.to_json() == before  # input state untouched
    st3, a2 = d.step(st, UserInput(dtmf="1"))
    assert st2.to_json() == st3.to_json() and a1 == a2  # same input, same output


def test_state_json_round_trip_mid_call(flows, fake_nlu, tmp_path):
    """A worker dies after verification; another picks the JSON up and the
    call carries on exactly as if nothing happened."""
    script = [("key", "1"), ("key", "1"), ("key", "0740315"), ("key", "1234")]
    rest = [("key", "1"), ("say", "我要掛失"), ("key", "1")]

    def run(conv, steps):
        return [getattr(conv, kind)(arg) for kind, arg in steps]

    def bank(name):  # each run gets its own fresh bank, so case numbers match
        from ivr.backends import BackendRegistry
        from ivr.backends.demo_bank import DemoBank
        return DemoBank(tmp_path / name).register(BackendRegistry())

    straight = Conversation(Dialog(flows, fake_nlu), bank("a"), caller="0912345678")
    straight.start()
    run(straight, script)
    expected = run(straight, rest)

    registry = bank("b")
    first = Conversation(Dialog(flows, fake_nlu), registry, caller="0912345678")
    first.start()
    run(first, script)
    saved = first.state.to_json()
    assert json.loads(saved)["verified"] is True and json.loads(saved)["flow_version"] == flows.version
    second = Conversation(Dialog(load_flows(FLOWS), fake_nlu), registry, caller="0912345678")
    second.state = DialogState.from_json(saved)
    second.t = first.t
    got = run(second, rest)
    assert [says(a) for a in got] == [says(a) for a in expected]
    assert second.state.to_dict() == straight.state.to_dict()


def _edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))  # coarse mtime filesystems


def test_hot_reload_keeps_version_for_calls_in_flight(flows_copy, fake_nlu):
    store = FlowStore(flows_copy, poll_interval=0)
    d = Dialog(store, fake_nlu)
    old_call, _ = d.step(None, CallStarted(call_id="old"))
    old_version = old_call.flow_version
    _edit(flows_copy / "menu.yaml", "請說出您要辦理的服務", "請告訴我您需要什麼服務")
    new_call, _ = d.step(None, CallStarted(call_id="new"))
    assert new_call.flow_version != old_version
    _, old_out = d.step(old_call, UserInput(dtmf="1"))
    _, new_out = d.step(new_call, UserInput(dtmf="1"))
    assert said(old_out, "請說出您要辦理的服務") and not said(old_out, "請告訴我")
    assert said(new_out, "請告訴我您需要什麼服務")
    # a broken edit is refused: new calls keep the last good flows
    _edit(flows_copy / "menu.yaml", "link: balance", "link: no_such_flow")
    third, _ = d.step(None, CallStarted(call_id="third"))
    assert third.flow_version == new_call.flow_version
    assert "no_such_flow" in str(store.last_error) and "menu.yaml:" in str(store.last_error)


def test_restart_onto_changed_flows_hands_off(flows_copy, fake_nlu):
    d_old = Dialog(FlowStore(flows_copy), fake_nlu)
    st, _ = d_old.step(None, CallStarted(call_id="r"))
    st, _ = d_old.step(st, UserInput(dtmf="1"))
    saved = st.to_json()
    _edit(flows_copy / "menu.yaml", "  - id: menu\n", "  - id: main_menu\n")
    d_new = Dialog(FlowStore(flows_copy), fake_nlu)  # a new worker: the old version is gone
    st, out = d_new.step(DialogState.from_json(saved), UserInput(dtmf="1"))
    assert transfer(out).reason == "flow_changed" and st.ended


def _write(d, name, text):
    (d / name).write_text(textwrap.dedent(text), encoding="utf-8")


def test_step_limit_breaker(tmp_path, fake_nlu):
    # two flows linking to each other: each is fine alone, together they spin
    _write(tmp_path, "main.yaml", """\
        flow: main
        steps:
          - id: hop
            link: other
        """)
    _write(tmp_path, "other.yaml", """\
        flow: other
        steps:
          - id: hop
            link: main
        """)
    d = Dialog(load_flows(tmp_path), fake_nlu, max_transitions=50)
    st, actions = d.step(None, CallStarted(call_id="loop"))
    t = transfer(actions)
    assert t is not None and t.reason == "step_limit" and st.ended
    assert st.transitions == 51 and len(st.path) == 50
    assert d.step(st, UserInput(text="hello")) [1] == []  # an ended call ignores input


def test_recorded_audio_and_regex_validation(tmp_path, fake_nlu):
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "ask.wav").write_bytes(b"RIFF")
    _write(tmp_path, "main.yaml", """\
        flow: main
        steps:
          - id: ask
            collect: code
            type: digits
            length: "4..6"
            prompt:
              zh-TW: {text: 請輸入代碼, audio: prompts/ask.wav}
              nan-TW: 請揤代碼
            validate:
              regex: "9\\\\d+"
              error: {zh-TW: 代碼要9開頭, nan-TW: 代碼愛9開頭}
            retries: 1
          - id: done
            end: true
            prompt: {zh-TW: "好的{code:digits}", nan-TW: "好{code:digits}"}
        """)
    d = Dialog(load_flows(tmp_path), fake_nlu)
    st, out = d.step(None, CallStarted(call_id="a"))
    assert out[0].audio == str((tmp_path / "prompts" / "ask.wav").resolve())
    assert listen(out).dtmf_max_digits == 6 and listen(out).end_silence_ms == 1500
    st, out = d.step(st, UserInput(dtmf="123"))  # too short
    assert said(out, "沒有聽懂")
    st, out = d.step(st, UserInput(dtmf="1234"))  # wrong shape: retries exhausted
    assert transfer(out).reason == "no_match:main/ask"
    st, out = d.step(None, CallStarted(call_id="b", language="nan-TW"))
    assert out[0].audio is None and out[0].text == "請揤代碼"  # the recording is Mandarin only
    st, out = d.step(st, UserInput(dtmf="12345"))
    assert said(out, "代碼愛9開頭")
    st, out = d.step(st, UserInput(dtmf="98765"))
    assert said(out, "好九八七六五") and st.end_reason == "completed"


def test_backend_validation_and_stale_results(flows, fake_nlu):
    d = Dialog(flows, fake_nlu)
    st, _ = d.step(None, CallStarted(call_id="x"))
    st, out = d.step(st, UserInput(dtmf="1"))
    st, out = d.step(st, UserInput(text="忘記密碼"))
    st, out = d.step(st, UserInput(text="A123456789"))
    assert [a.name for a in out if isinstance(a, CallBackend)] == ["customer_by_id"]
    unchanged, out = d.step(st, ActionResult("something_else", ok=True))
    assert out == [] and unchanged.step == st.step
    st, out = d.step(st, ActionResult("customer_by_id", ok=True, data={"customer_id": 7, "customer_name": "X"}))
    assert out == [CallBackend("send_reset_code", {"customer_id": 7})]
    st, out = d.step(st, ActionResult("send_reset_code", ok=True, data={"phone_last3": "321"}))
    st, out = d.step(st, UserInput(dtmf="123456"))
    assert out == [CallBackend("check_reset_code", {"customer_id": 7, "code": "123456"})]
    st, out = d.step(st, UserInput(text="說話不算數"))  # talking over a backend call is ignored
    assert out == []
    st, out = d.step(st, ActionResult("check_reset_code", ok=True))
    assert listen(out).slot == "new_pin" and st.slots["reset_code"] == "123456"
    st, out = d.step(st, CallEnded(timestamp=30.0))
    assert st.ended and st.end_reason == "hangup" and out == []


def test_event_before_start_is_an_error(flows, fake_nlu):
    with pytest.raises(ValueError, match="before CallStarted"):
        Dialog(flows, fake_nlu).step(None, NoInput())


def test_load_flows_raises_first_problem(tmp_path):
    _write(tmp_path, "main.yaml", """\
        flow: main
        steps:
          - id: a
            link: nowhere
        """)
    with pytest.raises(FlowError, match=r"main.yaml:4: step 'a': link to unknown flow 'nowhere'"):
        load_flows(tmp_path)


def test_say_carries_final_text(flows, fake_nlu, registry):
    conv = Conversation(Dialog(flows, fake_nlu), registry, caller="0922333444")
    conv.start()
    conv.key("2")
    conv.key("1")
    conv.key("0790701")
    out = conv.key("5678")
    text = next(a for a in out if isinstance(a, Say) and a.key == "balance.tell.say").text
    assert "{" not in text and "兩百三十五萬箍" in text and text.startswith("陳美玲")


def test_backend_data_that_is_not_json_survives(flows, fake_nlu):
    import decimal

    d = Dialog(flows, fake_nlu)
    st, _ = d.step(None, CallStarted(call_id="d", caller="0912345678"))
    st, _ = d.step(st, UserInput(dtmf="1"))
    st, _ = d.step(st, ActionResult("customer_context", ok=False, error="history_down"))  # the call goes on
    st, _ = d.step(st, UserInput(dtmf="1"))
    st, _ = d.step(st, UserInput(dtmf="0740315"))
    st, _ = d.step(st, ActionResult("identify_phone_birth", ok=True, data={"customer_id": 1}))
    st, _ = d.step(st, UserInput(dtmf="1234"))
    st, _ = d.step(st, ActionResult("verify_customer_pin", ok=True,
                                    data={"customer_id": 1, "customer_name": "王", "balance": decimal.Decimal("10.5")}))
    assert DialogState.from_json(st.to_json()).slots["balance"] == "10.5"


def test_random_calls_never_wedge(flows, fake_nlu):
    """Whatever a caller does, every event leaves the call either ended or
    waiting for something, and the state always survives JSON."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as s

    d = Dialog(flows, fake_nlu)
    turns = s.one_of(
        s.sampled_from("0123456789*#").map(lambda k: UserInput(dtmf=k)),
        s.sampled_from(["0740315", "10123456789", "1234", "123456", "8642"]).map(lambda k: UserInput(dtmf=k)),
        s.sampled_from(["我要查餘額", "台語", "國語", "重聽", "主選單", "好", "不要", "掛失", "客訴", "嗯"]).map(
            lambda t: UserInput(text=t)),
        s.just(NoInput()),
        s.booleans().map(lambda ok: ("result", ok)),
    )

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(s.lists(turns, max_size=25), s.sampled_from(["", "0912345678"]))
    def run(events, caller):
        st, actions = d.step(None, CallStarted(call_id="h", caller=caller))
        pending = [a for a in actions if isinstance(a, CallBackend)]
        for ev in events:
            if isinstance(ev, tuple):
                if not pending:
                    continue
                call = pending.pop()
                data = {"customer_id": 1, "customer_name": "王", "balance": 5, "phone_last3": "678",
                        "case_id": "L1", "card_last4": "4321"}
                ev = ActionResult(call.name, ev[1], data if ev[1] else {}, "" if ev[1] else "wrong_pin")
            st, actions = d.step(st, ev)
            pending += [a for a in actions if isinstance(a, CallBackend)]
            assert DialogState.from_json(st.to_json()).to_dict() == json.loads(st.to_json())
            if st.ended:
                break
            assert st.waiting in ("input", "confirm", "backend", "validate"), st.path[-3:]
            if st.waiting in ("input", "confirm") and actions:
                assert any(type(a).__name__ == "Listen" for a in actions)
    run()


def test_nlu_failure_is_a_no_match(flows, fake_nlu):
    class Broken(type(fake_nlu)):
        def classify(self, *a, **k):
            raise RuntimeError("model file vanished")

    d = Dialog(flows, Broken())
    st, _ = d.step(None, CallStarted(call_id="n"))
    st, out = d.step(st, UserInput(text="隨便講講"))
    assert said(out, "沒有聽懂") and listen(out).slot == "language_choice" and st.no_match == 1


def test_fallback_number_reading():
    from ivr.dialog.render import _amount, _date, chinese_number

    cases = {0: "零", 10: "十", 105: "一百零五", 1005: "一千零五", 12345: "一萬兩千三百四十五",
             100100: "十萬零一百", 230050: "二十三萬零五十", 100000000: "一億"}
    assert {n: chinese_number(n) for n in cases} == cases
    assert _amount(52340, "nan-TW") == "五萬兩千三百四十箍"
    assert _date("1985-03-15", "zh-TW") == "一九八五年三月十五日"
