"""Transport tests share the session room's fakes (tests/session/session_fakes.py)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "session"))
