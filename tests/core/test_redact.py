import io
import json
import logging

import pytest

from ivr.log import get_logger, setup_logging
from ivr.redact import redact, redact_obj


@pytest.mark.parametrize(
    "text, secret",
    [
        ("身分證 A123456789 已驗證", "A123456789"),
        ("ID a223456789", "a223456789"),
        ("全形 Ａ１２３４５６７８９", "123456789"),
        ("手機 0912-345-678", "345-678"),
        ("手機 0912345678", "0912345678"),
        ("+886 912 345 678", "912 345 678"),
        ("市話 02-2345-6789", "2345-6789"),
        ("卡號 4111 1111 1111 1111", "4111 1111 1111"),
        ("帳號 012345678901", "0123456789"),
    ],
)
def test_personal_data_is_masked(text, secret):
    out = redact(text)
    assert secret not in out
    assert "*" in out


def test_ordinary_text_and_short_numbers_survive():
    assert redact("請按1查詢餘額，共3筆") == "請按1查詢餘額，共3筆"
    assert redact("餘額 12345 元") == "餘額 12345 元"


def test_redact_obj_walks_nested_structures():
    obj = {"caller": "0912345678", "turns": [{"text": "我的身分證是A123456789"}], "n": 3}
    out = redact_obj(obj)
    assert "0912345678" not in json.dumps(out) and "A123456789" not in json.dumps(out, ensure_ascii=False)
    assert out["n"] == 3


def test_json_logs_are_redacted_including_extra_fields():
    buf = io.StringIO()
    setup_logging("info", json_logs=True, stream=buf)
    log = get_logger("ivr.test")
    call_id = "8a2f0c1e-0000-4000-8123-456789012345"  # a PBX UUID: long digit runs, not personal
    log.info("caller %s keyed id", "0912345678", extra={"call_id": call_id, "slots": {"id": "A123456789"}})
    line = json.loads(buf.getvalue().strip())
    assert line["call_id"] == call_id
    assert "0912345678" not in buf.getvalue() and "A123456789" not in buf.getvalue()
    logging.getLogger("ivr").handlers.clear()
