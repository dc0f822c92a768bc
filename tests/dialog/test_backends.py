"""Backends: the SQLite demo bank, Python callables, and HTTP webhooks against a
real HTTP server on 127.0.0.1 (including one too slow to answer in time)."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ivr.backends import BackendRegistry, load_webhooks
from ivr.backends.demo_bank import SEED_CUSTOMERS, DemoBank, make_taiwan_id
from ivr.dialog.extract import taiwan_id_from_keys, taiwan_id_valid
from ivr.errors import BackendError, FlowError

WANG, CHEN, LIN = SEED_CUSTOMERS


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *a):  # keep test output clean
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
        srv = self.server
        srv.hits[self.path] = srv.hits.get(self.path, 0) + 1
        if self.path == "/slow":
            time.sleep(0.6)
            return self._send(200, {"ok": True, "data": {}})
        if self.path == "/flaky" and srv.hits[self.path] == 1:
            return self._send(503, {"error": "busy"})
        if self.path == "/bad":
            return self._send(400, {"error": "missing customer_id"})
        if self.path == "/text":
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"hello")
            return None
        if self.path == "/whoami":
            return self._send(200, {"call_id": self.headers.get("X-Ivr-Call-Id")})
        if self.path == "/balance":
            return self._send(200, {"ok": True, "data": {"balance": 1234 * int(body.get("customer_id", 0))}})
        return self._send(200, {"echo": body})

    def _send(self, code, obj):
        data = json.dumps(obj).encode()
        try:
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (the timeout test): that is the point


@pytest.fixture(scope="module")
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.hits = {}
    srv.daemon_threads = True
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}", srv
    srv.shutdown()
    srv.server_close()


def test_taiwan_ids():
    assert taiwan_id_valid("A123456789")
    assert not taiwan_id_valid("A123456788")
    assert all(taiwan_id_valid(c[1]) for c in SEED_CUSTOMERS)
    assert make_taiwan_id("A", "12345678") == "A123456789"
    assert taiwan_id_from_keys("10123456789") == "A123456789"
    assert taiwan_id_from_keys("10123456788") is None


def test_demo_bank_identity_and_balance(bank):
    ok = bank.verify_id_pin(WANG[1], WANG[2])
    assert ok["customer_id"] == 1 and ok["balance"] == WANG[5]
    assert bank.verify_id_pin(WANG[1], "0000") == {"ok": False, "error": "wrong_pin"}
    assert bank.verify_id_pin("A100000001", "1234")["error"] == "no_such_customer"
    # caller number + birth date identify (a customer id, no name, no balance): they do not verify
    assert bank.identify_phone_birth("+886-922-333-444", CHEN[4]) == {"customer_id": 2}
    assert bank.identify_phone_birth(CHEN[3], "1990-07-02")["error"] == "wrong_birth_date"
    assert bank.identify_phone_birth("0287654321", CHEN[4])["error"] == "unknown_number"
    assert bank.verify_customer_pin(2, CHEN[2])["customer_name"] == CHEN[0]
    assert bank.verify_customer_pin(2, "0000")["error"] == "wrong_pin"
    # value is no balance threshold here: ivr.history.value scores it from flows/_value.yaml
    assert bank.get_balance(2) == {"balance": CHEN[5]}
    prof = bank.customer_profile(caller="+886922333444")
    assert (prof["customer_id"], prof["products_count"], prof["cancel_requested"]) == (2, 4, False)
    assert bank.customer_profile(customer_id=3)["cancel_requested"] is True
    assert bank.customer_profile(caller="0287654321")["error"] == "no_such_customer"
    # PINs are stored hashed, never in clear
    import sqlite3
    rows = sqlite3.connect(bank.path).execute("SELECT pin_hash FROM customers").fetchall()
    assert all(r[0].startswith("$argon2") and WANG[2] not in r[0] for r in rows)


def test_demo_bank_reset_code_and_card_loss(bank):
    assert bank.check_reset_code(1, "123456")["error"] == "no_valid_code"
    assert bank.send_reset_code(1) == {"phone_last3": WANG[3][-3:]}
    code = bank.last_code(1)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    assert bank.check_reset_code(1, wrong)["error"] == "wrong_code"
    assert bank.check_reset_code(1, code) == {"code_ok": True}
    assert bank.check_reset_code(1, code)["error"] == "no_valid_code"  # one time only
    assert bank.set_pin(1, "1111")["error"] == "weak_pin"
    assert bank.set_pin(1, "9753") == {"pin_set": True}
    assert "customer_id" in bank.verify_id_pin(WANG[1], "9753")
    assert bank.card_status(3) == "active"
    res = bank.report_card_loss(3)
    assert res["card_last4"] == LIN[6] and res["case_id"].startswith("L")
    assert bank.card_status(3) == "blocked"


def test_wrong_pins_lock_and_a_right_pin_resets(bank):
    from ivr.backends.demo_bank import MAX_PIN_FAILURES

    assert MAX_PIN_FAILURES == 3
    assert bank.verify_customer_pin(1, "0000")["error"] == "wrong_pin"
    assert bank.verify_id_pin(WANG[1], "1111")["error"] == "wrong_pin"   # both paths share one counter
    assert bank.pin_failures(1) == (2, False)
    assert bank.verify_id_pin(WANG[1], WANG[2])["customer_id"] == 1     # a right PIN resets it
    assert bank.pin_failures(1) == (0, False)
    assert [bank.verify_customer_pin(1, "0000")["error"] for _ in range(3)] == ["wrong_pin", "wrong_pin", "pin_locked"]
    assert bank.pin_failures(1) == (3, True)
    # locked: even the right PIN is refused, by either path; other customers are not affected
    assert bank.verify_customer_pin(1, WANG[2]) == {"ok": False, "error": "pin_locked"}
    assert bank.verify_id_pin(WANG[1], WANG[2]) == {"ok": False, "error": "pin_locked"}
    assert bank.verify_id_pin(CHEN[1], CHEN[2])["customer_id"] == 2
    # the lock survives a new DemoBank on the same file (it lives in the bank, not the call)
    assert DemoBank(bank.path).pin_failures(1) == (3, True)
    # a new PIN (set after a one-time code) or an agent lifts it
    assert bank.set_pin(1, "9753") == {"pin_set": True}
    assert bank.pin_failures(1) == (0, False) and "customer_id" in bank.verify_customer_pin(1, "9753")
    for _ in range(3):
        bank.verify_customer_pin(1, "0000")
    bank.unlock_pin(1)
    assert "customer_id" in bank.verify_customer_pin(1, "9753")


def test_unknown_id_locks_like_a_real_one(bank):
    """An ID that is no one's answers and locks exactly like a customer's with a
    wrong PIN: the flow cannot be used to find out which IDs exist."""
    unknown = make_taiwan_id("A", "10000000")
    real = [bank.verify_id_pin(WANG[1], "0000")["error"] for _ in range(4)]
    fake = [bank.verify_id_pin(unknown, "0000")["error"] for _ in range(4)]
    assert real == ["wrong_pin", "wrong_pin", "pin_locked", "pin_locked"]
    assert fake == ["no_such_customer", "no_such_customer", "pin_locked", "pin_locked"]


def test_every_attempt_is_audited_without_secrets(bank):
    import sqlite3

    bank.identify_phone_birth(WANG[3], "1999-01-01")
    bank.identify_phone_birth(WANG[3], WANG[4])
    bank.verify_customer_pin(1, "0000")
    bank.verify_customer_pin(1, WANG[2])
    bank.verify_id_pin(CHEN[1], "8642")
    bank.verify_id_pin(make_taiwan_id("A", "10000000"), "8642")
    bank.send_reset_code(3)
    bank.check_reset_code(3, "000000" if bank.last_code(3) != "000000" else "000001")
    rows = bank.audit_rows()
    assert [(r["customer_id"], r["method"], r["result"]) for r in rows] == [
        (1, "caller_number_birth_date", "wrong_birth_date"),
        (1, "caller_number_birth_date", "identified"),
        (1, "caller_number_pin", "wrong_pin"),
        (1, "caller_number_pin", "ok"),
        (2, "id_pin", "wrong_pin"),
        (None, "id_pin", "no_such_customer"),
        (3, "sms_code", "wrong_code"),
    ]
    assert rows[4]["who"] == "B22****" + CHEN[1][-3:] and rows[5]["who"].startswith("A10****")
    assert all(r["at"].endswith("+00:00") for r in rows)   # when, in UTC
    # nothing secret or personal in clear anywhere in the table
    dump = "\n".join(str(tuple(r)) for r in sqlite3.connect(bank.path).execute("SELECT * FROM verification_audit"))
    for secret in (WANG[2], "8642", WANG[4], "1999-01-01", CHEN[1], WANG[3]):
        assert secret not in dump, secret


def test_demo_bank_code_expires(tmp_path):
    clock = [1000.0]
    bank = DemoBank(tmp_path / "b.sqlite", now=lambda: clock[0])
    bank.send_reset_code(2)
    clock[0] += 301
    assert bank.check_reset_code(2, bank.last_code(2))["error"] == "no_valid_code"


def test_registry_callables():
    reg = BackendRegistry()
    reg.register("add", lambda a, b: {"sum": a + b})
    reg.register("refuse", lambda: {"ok": False, "error": "nope"})
    reg.register("boom", lambda: 1 / 0)

    def raises():
        raise BackendError("service down", "crm")
    reg.register("down", raises)
    assert reg.call("add", {"a": 1, "b": 2}).data == {"sum": 3}
    r = reg.call("refuse")
    assert not r.ok and r.error == "nope"
    r = reg.call("boom")
    assert not r.ok and "ZeroDivisionError" in r.error
    assert reg.call("down").error == "service down"
    assert reg.call("missing").error == "unknown backend 'missing'"


def test_webhook_ok_retry_and_errors(server):
    url, srv = server
    reg = BackendRegistry()
    reg.register_webhook("balance", f"{url}/balance", timeout=2)
    reg.register_webhook("echo", f"{url}/echo", timeout=2)
    reg.register_webhook("flaky", f"{url}/flaky", timeout=2, retries=1)
    reg.register_webhook("bad", f"{url}/bad", timeout=2, retries=3)
    reg.register_webhook("text", f"{url}/text", timeout=2)
    assert reg.call("balance", {"customer_id": 2}).data == {"balance": 2468}
    assert reg.call("echo", {"x": "台"}).data == {"echo": {"x": "台"}}
    r = reg.call("flaky")
    assert r.ok and srv.hits["/flaky"] == 2
    r = reg.call("bad")
    assert not r.ok and "400" in r.error and srv.hits["/bad"] == 1  # a 4xx is an answer: no retry
    r = reg.call("text")
    assert not r.ok and "not JSON" in r.error


def test_webhook_timeout(server):
    url, srv = server
    reg = BackendRegistry()
    reg.register_webhook("slow", f"{url}/slow", timeout=0.2, retries=1)
    before = srv.hits.get("/slow", 0)
    r = reg.call("slow")
    assert not r.ok and "timeout after 0.2s" in r.error
    assert srv.hits["/slow"] - before == 2


async def test_webhook_async(server):
    url, _ = server
    reg = BackendRegistry()
    reg.register_webhook("balance", f"{url}/balance", timeout=2)
    reg.register_webhook("slow", f"{url}/slow", timeout=0.2, retries=0)
    reg.register("local", lambda n: {"n": n * 2})
    assert (await reg.acall("balance", {"customer_id": 1})).data == {"balance": 1234}
    assert "timeout" in (await reg.acall("slow")).error
    assert (await reg.acall("local", {"n": 4})).data == {"n": 8}


def test_webhooks_file(tmp_path, server):
    url, _ = server
    (tmp_path / "_backends.yaml").write_text(f"webhooks:\n  crm_balance:\n    url: {url}/balance\n    timeout: 1\n")
    reg = load_webhooks(BackendRegistry(), tmp_path)
    assert "crm_balance" in reg and reg.call("crm_balance", {"customer_id": 3}).data == {"balance": 3702}
    (tmp_path / "_backends.yaml").write_text("webhooks:\n  crm:\n    timeout: 1\n")
    with pytest.raises(FlowError, match=r"_backends.yaml:2: webhook 'crm' needs a 'url'"):
        load_webhooks(BackendRegistry(), tmp_path)


def test_audit_rows_name_the_call_and_a_flow_cannot_forge_it(bank):
    reg = bank.register(BackendRegistry())
    reg.call("verify_customer_pin", {"customer_id": 1, "pin": "0000"}, call_id="call-7")
    # a flow that passes its own call_id is overridden by the session's
    reg.call("verify_customer_pin", {"customer_id": 1, "pin": WANG[2], "call_id": "forged"}, call_id="call-8")
    rows = bank.audit_rows()[-2:]
    assert [(r["call_id"], r["result"]) for r in rows] == [("call-7", "wrong_pin"), ("call-8", "ok")]


def test_an_old_bank_file_gains_the_call_id_column(tmp_path):
    import sqlite3
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE verification_audit (id INTEGER PRIMARY KEY, at TEXT NOT NULL, customer_id INTEGER,"
                   " who TEXT NOT NULL, method TEXT NOT NULL, result TEXT NOT NULL)")
    bank = DemoBank(path)
    bank.verify_customer_pin(1, "0000", call_id="c1")
    assert bank.audit_rows()[-1]["call_id"] == "c1"


async def test_the_session_names_its_call_to_backends_and_webhooks(bank, server):
    from ivr.clock import VirtualClock
    from ivr.frames import CallBackend
    from ivr.session.backend_call import run_backend

    url, _ = server
    reg = bank.register(BackendRegistry())
    reg.register_webhook("whoami", url + "/whoami")

    async def offload(fn, *args):
        return fn(*args)

    out = await run_backend(reg.acall, CallBackend("whoami"), VirtualClock(), offload, 3.0, call_id="abc-1")
    assert out.data == {"call_id": "abc-1"}
    await run_backend(reg.acall, CallBackend("verify_customer_pin", {"customer_id": 2, "pin": "9"}),
                      VirtualClock(), offload, 3.0, call_id="abc-2")
    assert bank.audit_rows()[-1]["call_id"] == "abc-2"
