"""``ivr chat`` with piped stdin, as a tester or CI would drive it."""
from __future__ import annotations

import os
import subprocess
import sys

from .support import ROOT


def _chat(args, lines, tmp_path):
    env = dict(os.environ, IVR_DEMO_BANK=str(tmp_path / "bank.sqlite"))
    return subprocess.run([sys.executable, "-m", "ivr", "chat", *args], input="\n".join(lines) + "\n",
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_chat_piped_balance_then_agent(tmp_path, real_nlu):
    r = _chat(["main"], ["#1", "我要查餘額", "#0740315", "#1234", "/state", "台語", "#0", "never read"], tmp_path)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "intent=check_balance" in out and "'intent': 'check_balance'" in out
    assert "王小明您好，您的帳戶餘額為五萬兩千三百四十元" in out
    assert '"flow_version"' in out  # /state dumps the state as JSON
    assert "bot [nan-TW]" in out
    assert "TRANSFER queue=T1 priority=4 reason=caller_request" in out
    assert "never read" not in out  # the call ended at the transfer


def test_chat_flow_file_and_bad_flow(tmp_path, real_nlu):
    r = _chat(["flows/support.yaml"], ["", ""], tmp_path)
    assert r.returncode == 0 and "TRANSFER queue=T2" in r.stdout, r.stderr
    r = _chat(["nope"], [], tmp_path)
    assert r.returncode == 2 and "no flow 'nope'" in r.stderr
