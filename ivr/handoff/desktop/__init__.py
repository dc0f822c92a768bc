"""Agent desktop: FastAPI + WebSocket, static HTML/JS served from this package."""
from ivr.handoff.desktop.app import SESSION_COOKIE, create_app

__all__ = ["SESSION_COOKIE", "create_app"]
