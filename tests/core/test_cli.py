import subprocess
import sys


def test_help_lists_commands_with_examples():
    out = subprocess.run([sys.executable, "-m", "ivr", "--help"], capture_output=True, text=True, check=True).stdout
    assert "examples:" in out and "ivr demo" in out
    for cmd in ("replay", "validate", "models", "chat", "serve", "test"):
        assert cmd in out
