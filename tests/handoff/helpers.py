"""Small builders shared by the handoff tests."""
from __future__ import annotations

from ivr.handoff import ContextBundle, TranscriptTurn

PASSWORD = "correct horse battery"


def bundle(call_id: str, **kw) -> ContextBundle:
    base = {
        "caller_number": "0912345678", "language": "zh-TW", "intent": "technical_support",
        "slots": {"product": "網路銀行"}, "reason": "caller asked for an agent",
        "transcript": (TranscriptTurn(0.5, "bot", "您好，請問需要什麼服務？"),
                    TranscriptTurn(3.2, "caller", "網路銀行沒辦法登入", 0.91)),
        "path": ("main.greet", "main.menu", "tech.login_help"),
    }
    base.update(kw)
    return ContextBundle(call_id=call_id, **base)


async def add_agent(service, agent_id: str, tier: str = "T1", skills=None, role: str = "agent", available: bool = True,
                    languages=("zh-TW",)):
    await service.add_agent(agent_id, agent_id.title(), PASSWORD, tier=tier, skills=skills, role=role, languages=languages)
    if available:
        await service.set_status(agent_id, "available")
