"""A backend's error text is untrusted: it reaches the dialog, the call record
and the logs only as one safe line (no echoed argument, no URL secret, no
personal number)."""
from __future__ import annotations

import asyncio

import httpx

from ivr.backends.webhook import Webhook
from ivr.clock import VirtualClock
from ivr.frames import ActionResult, CallBackend
from ivr.session.backend_call import ERROR_MAX_CHARS, clean_error, run_backend


async def _offload(fn, *args):  # type: ignore[no-untyped-def]
    return fn(*args)


def _run(backends, action: CallBackend) -> ActionResult:  # type: ignore[no-untyped-def]
    return asyncio.run(run_backend(backends, action, VirtualClock(), _offload, 3.0))


def test_an_echoed_pin_never_leaves_the_backend_call() -> None:
    def bank(name: str, args: dict) -> ActionResult:
        return ActionResult(name, False, error=f"wrong PIN {args['pin']} for\ncustomer {args['customer']}")

    res = _run(bank, CallBackend("verify_pin", {"pin": "4831", "customer": "C00042"}))
    assert not res.ok
    assert "4831" not in res.error and "C00042" not in res.error
    assert "\n" not in res.error and res.error.startswith("wrong PIN ****")


def test_an_exception_text_is_one_line_with_secrets_masked() -> None:
    def bank(name: str, args: dict) -> ActionResult:
        raise RuntimeError("cannot reach postgresql://ivr:hunter2@db/bank\nfor caller 0912345678 " + "x" * 500)

    res = _run(bank, CallBackend("balance", {"account": "12"}))
    assert "hunter2" not in res.error and "0912345678" not in res.error
    assert res.error.startswith("RuntimeError: cannot reach postgresql://ivr:***@db/bank for caller")
    assert len(res.error) <= ERROR_MAX_CHARS and "\n" not in res.error


def test_a_webhook_that_echoes_its_arguments() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"error": "bad otp " + request.content.decode()[-12:]})

    hook = Webhook("otp", "https://bank.example/otp?token=s3cr3t", transport=httpx.MockTransport(handler))

    async def backends(name: str, args: dict) -> ActionResult:
        return await hook.acall(args)

    res = _run(backends, CallBackend("otp", {"otp": "582913"}))
    assert "582913" not in res.error and res.error.startswith("HTTP 400: bad otp")


def test_short_arguments_and_clean_errors_are_left_alone() -> None:
    assert clean_error("timed out after 3 s", {"lang": "zh", "n": 1}) == "timed out after 3 s"
    assert clean_error("", {"pin": "1234"}) == ""
