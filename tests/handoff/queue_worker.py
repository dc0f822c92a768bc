"""A worker process for the kill -9 test: ``enqueue URL PREFIX`` queues calls
forever, printing each ticket id once ``enqueue`` returned; ``list URL
PREFIX`` prints the T1 queue in order (a restarted worker's view)."""
from __future__ import annotations

import asyncio
import sys

from ivr.handoff import ContextBundle, HandoffService, TranscriptTurn, open_store


async def enqueue_forever(svc: HandoffService) -> None:
    i = 0
    while True:
        b = ContextBundle(call_id=f"call-{i}", caller_number="0912345678", intent="check_balance",
                          transcript=(TranscriptTurn(1.0, "caller", f"第{i}通"),))
        t = await svc.enqueue(b, "T1", priority=3 if i % 5 == 0 else 0)
        print(t.id, flush=True)
        i += 1


async def main(cmd: str, url: str, prefix: str) -> None:
    store = open_store(url, **({"prefix": prefix} if url.startswith("redis") else {}))
    svc = HandoffService(store)
    if cmd == "enqueue":
        await enqueue_forever(svc)
    else:
        for t in store.waiting("T1"):
            b = await svc.bundle(t)
            print(t.id, t.priority, b.call_id, flush=True)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
