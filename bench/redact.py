"""Redaction cost per log line: ``ivr.redact.redact`` runs on every log
message and every stored call event, so it must stay cheap. Times typical
lines (plain Chinese, a call-id log line, a transcript with a phone number
written with separators, Chinese numerals, a JSON-ish event) and prints µs per
call.

    python bench/redact.py            # -> bench/results/redact.json
"""
from __future__ import annotations

import json
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ivr.redact import mask_taiwan_ids, redact  # noqa: E402

LINES = {
    "plain": "請說出您要辦理的服務，例如查詢餘額、重設密碼或卡片掛失。",
    "log_ids": "call started call 8a2f0c1e-0000-4000-8123-456789012345 ticket 3f2a9b1c00012345 on 127.0.0.1:8080",
    "phone_commas": "好的我的手機是0912,345,678謝謝",
    "chinese_numerals": "我的帳號是零一二三四五六七八九零一，身分證欸一二三四五六七八九",
    "card_dots": "卡號 4111.1111.1111.1111 到期 2026/12/01 餘額 12,345 元",
    "event_json": json.dumps({"slot": "id_number", "text": "A123,456,789", "dtmf": "", "confidence": 0.93},
                             ensure_ascii=False),
}


def per_call_us(fn, text: str, n: int = 2000) -> float:
    t0 = time.perf_counter()
    for _ in range(n):
        fn(text)
    return (time.perf_counter() - t0) / n * 1e6


def main() -> None:
    results = {name: {"chars": len(text), "redact_us": round(per_call_us(redact, text), 1),
                      "mask_taiwan_ids_us": round(per_call_us(mask_taiwan_ids, text), 1)}
               for name, text in LINES.items()}
    for name, r in results.items():
        print(f"{name:18s} {r['chars']:4d} chars  redact {r['redact_us']:7.1f} µs  "
              f"mask_taiwan_ids {r['mask_taiwan_ids_us']:7.1f} µs")
    out = ROOT / "bench" / "results" / "redact.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"python": platform.python_version(), "machine": platform.machine(),
                               "results": results}, indent=1) + "\n")
    print(f"-> {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
