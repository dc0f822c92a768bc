"""The agent desktop web app.

HTTP for actions, one WebSocket per open desktop that pushes a snapshot
(agent state, the call on screen with its context, queues, supervisor
numbers) whenever it changes. The socket polls the store as well as waking
on local changes, so offers made by other workers show up too.

Security: every /api route and the socket need a session (HttpOnly
SameSite=Strict cookie, ``Secure`` when served over TLS, or
``Authorization: Bearer`` for scripts; a token in the URL is refused); an
agent reads only contexts of queues in their skills (403), supervisors read
all (and only they the outbound campaigns' progress, ``/api/supervisor/campaigns``,
from whatever ``campaigns`` source the host wires in: the desktop knows no
campaign store). State-changing requests and the socket must come from this origin.
Logins are limited per client address and globally (``guard.LoginGuard``),
and their argon2 runs in its own bounded pool (503 when full)."""
from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Mapping, Sequence
from importlib import resources
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from ivr.dsn import mask_secrets
from ivr.handoff.auth import HasherBusy
from ivr.handoff.desktop.guard import LoginGuard, same_origin
from ivr.handoff.errors import HandoffError, StateConflict, StoreError, UnknownTicket
from ivr.handoff.models import DISPOSITIONS, SETTABLE_STATUSES, TIERS, AgentProfile
from ivr.handoff.service import HandoffService
from ivr.handoff.store import store_error_types
from ivr.log import get_logger

log = get_logger(__name__)
SESSION_COOKIE = "ivr_session"
STATIC = resources.files("ivr.handoff.desktop") / "static"
LOGIN_LIMIT = 5           # failed logins per client address ...
LOGIN_LOCK_SECONDS = 60.0  # ... before a lock-out of that address, doubling per further failure
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Campaign progress rows (``ivr.outbound.state.CampaignState.overview``): blocking, run in a thread.
CampaignSource = Callable[[], Sequence[Mapping[str, Any]]]


class LoginBody(BaseModel):
    agent_id: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class StatusBody(BaseModel):
    status: str


class TransferBody(BaseModel):
    queue: str
    note: str = Field(default="", max_length=1000)


class WrapUpBody(BaseModel):
    disposition: str
    note: str = Field(default="", max_length=1000)


class ScoreBody(BaseModel):
    score: float = Field(ge=1, le=5)
    kind: str = "quality"


def _token_from(headers, cookies) -> str:
    auth = headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return cookies.get(SESSION_COOKIE) or ""


def create_app(service: HandoffService, *, secure_cookies: bool = False, run_ticker: bool = True,
               tick_interval: float = 1.0, push_interval: float = 1.0, guard: LoginGuard | None = None,
               allowed_origins: tuple[str, ...] = (), campaigns: CampaignSource | None = None) -> FastAPI:
    """Build the desktop app around a service. ``run_ticker`` starts the
    routing ticker with the app; set it False when the host app (``ivr
    serve``) already runs ``service.run()``, as mounted sub-apps get no
    lifespan events. ``secure_cookies`` forces the Secure flag (behind a TLS
    proxy that does not say so); over TLS it is set anyway. ``campaigns``
    gives the supervisors' campaign panel its rows (None: no campaigns here)."""
    if guard is None:
        guard = LoginGuard(free_failures=LOGIN_LIMIT, lock_seconds=LOGIN_LOCK_SECONDS)
    origins = frozenset(allowed_origins)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        task = asyncio.create_task(service.run(tick_interval)) if run_ticker else None
        try:
            yield
        finally:
            if task:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    app = FastAPI(title="ivr agent desktop", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.service = service
    app.state.guard = guard

    @app.middleware("http")
    async def headers(request: Request, call_next):
        if "token" in request.query_params:
            resp = JSONResponse({"detail": "tokens in URLs are refused; use the session cookie or "
                                           "Authorization: Bearer"}, status_code=400)
        elif request.method in UNSAFE_METHODS and not same_origin(request.headers, origins):
            resp = JSONResponse({"detail": "cross-origin request refused"}, status_code=403)
        else:
            resp = await call_next(request)
        resp.headers["Content-Security-Policy"] = ("default-src 'self'; connect-src 'self' ws: wss:; "
                                                   "img-src 'self' data:; frame-ancestors 'none'")
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["Referrer-Policy"] = "no-referrer"
        resp.headers["Cache-Control"] = "no-store"
        return resp

    @app.exception_handler(HandoffError)
    async def handoff_error(request: Request, exc: HandoffError):
        code = 404 if isinstance(exc, UnknownTicket) else 409 if isinstance(exc, StateConflict) \
            else 503 if isinstance(exc, StoreError) else 400
        # the message only: ``where`` names the store (a URL an agent has no use for)
        return JSONResponse({"detail": mask_secrets(exc.message)}, status_code=code)

    async def store_down(request: Request, exc: Exception) -> JSONResponse:
        # one counted log line per outage (ivr.log's repeat filter), not a traceback per request
        log.error("desktop: queue store unavailable (%s)", type(exc).__name__)
        return JSONResponse({"detail": "the queue store is unavailable; retrying"}, status_code=503,
                            headers={"Retry-After": "2"})

    for kind in store_error_types():
        if not issubclass(kind, HandoffError):
            app.add_exception_handler(kind, store_down)

    async def current_agent(request: Request) -> AgentProfile:
        token = _token_from(request.headers, request.cookies)
        agent = await service.session_agent(token)
        if agent is None:
            raise HTTPException(401, "login required")
        return agent

    def supervisor(agent: AgentProfile = Depends(current_agent)) -> AgentProfile:
        if not agent.is_supervisor:
            raise HTTPException(403, "supervisors only")
        return agent

    async def readable_ticket(ticket_id: str, agent: AgentProfile):
        t = await service.status(ticket_id)
        _, st = await service.agent(agent.id)
        # An agent may always see the call ringing at / connected to their own desk.
        if not (agent.can_read(t.queue) or st.ticket == t.id):
            raise HTTPException(403, f"no skill for queue {t.queue}")
        return t

    # -- pages ------------------------------------------------------------
    @app.get("/", include_in_schema=False)
    async def index():
        return FileResponse(str(STATIC / "index.html"), media_type="text/html")

    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    @app.get("/healthz", include_in_schema=False)
    async def healthz():
        return {"ok": True}

    # -- session ----------------------------------------------------------
    @app.post("/api/login")
    async def login(body: LoginBody, request: Request):
        client = request.client.host if request.client else "?"
        wait, why = guard.retry_after(client)
        if wait > 0:
            msg = "too many failed logins from this address" if why == "client" else "too many logins right now"
            raise HTTPException(429, f"{msg}; retry in {wait:.0f} s", headers={"Retry-After": str(max(1, round(wait)))})
        try:
            token = await service.login(body.agent_id, body.password, trusted=guard.trusted(client))
        except HasherBusy:
            raise HTTPException(503, "login is busy; retry in a few seconds", headers={"Retry-After": "2"}) from None
        if token is None:
            guard.failed(client)
            log.warning("failed desktop login", extra={"agent": body.agent_id[:64], "client": client})
            raise HTTPException(401, "wrong agent id or password")
        guard.succeeded(client)
        prof, st = await service.agent(body.agent_id)
        resp = JSONResponse({"token": token, "agent": prof.to_dict(with_hash=False), "state": st.to_dict()})
        resp.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict",
                        secure=secure_cookies or request.url.scheme == "https",
                        max_age=int(service.session_ttl), path="/")
        return resp

    @app.post("/api/logout")
    async def logout(request: Request, agent: AgentProfile = Depends(current_agent)):
        await service.logout(_token_from(request.headers, request.cookies))
        with contextlib.suppress(HandoffError):
            await service.set_status(agent.id, "away")
        resp = Response(status_code=204)
        resp.delete_cookie(SESSION_COOKIE, path="/")
        return resp

    @app.get("/api/me")
    async def me(agent: AgentProfile = Depends(current_agent)):
        _, st = await service.agent(agent.id)
        return {"agent": agent.to_dict(with_hash=False), "state": st.to_dict()}

    @app.get("/api/meta")
    async def meta(agent: AgentProfile = Depends(current_agent)):
        return {"dispositions": DISPOSITIONS, "tiers": TIERS, "statuses": list(SETTABLE_STATUSES),
                "queues": [{"name": q.name, "tier": q.tier, "description": q.description}
                           for q in service.queues.values()]}

    @app.post("/api/status")
    async def set_status(body: StatusBody, agent: AgentProfile = Depends(current_agent)):
        return (await service.set_status(agent.id, body.status)).to_dict()

    # -- queues and calls -------------------------------------------------
    def visible_queues(agent: AgentProfile) -> list[str]:
        return [q for q in service.queues if agent.can_read(q)]

    @app.get("/api/queues")
    async def queues(agent: AgentProfile = Depends(current_agent)):
        return await service.queue_view(visible_queues(agent))

    @app.get("/api/tickets/{ticket_id}")
    async def ticket(ticket_id: str, agent: AgentProfile = Depends(current_agent)):
        t = await readable_ticket(ticket_id, agent)
        return {"ticket": t.to_dict(), "context": (await service.bundle(t)).agent_view()}

    @app.post("/api/tickets/{ticket_id}/accept")
    async def accept(ticket_id: str, agent: AgentProfile = Depends(current_agent)):
        return (await service.accept(agent.id, ticket_id)).to_dict()

    @app.post("/api/tickets/{ticket_id}/decline")
    async def decline(ticket_id: str, agent: AgentProfile = Depends(current_agent)):
        await service.decline(agent.id, ticket_id)
        return {"ok": True}

    @app.post("/api/tickets/{ticket_id}/hangup")
    async def hangup(ticket_id: str, agent: AgentProfile = Depends(current_agent)):
        return (await service.hang_up(agent.id, ticket_id)).to_dict()

    @app.post("/api/tickets/{ticket_id}/transfer")
    async def transfer(ticket_id: str, body: TransferBody, agent: AgentProfile = Depends(current_agent)):
        return (await service.transfer(agent.id, ticket_id, body.queue, body.note)).to_dict()

    @app.post("/api/tickets/{ticket_id}/wrapup")
    async def wrapup(ticket_id: str, body: WrapUpBody, agent: AgentProfile = Depends(current_agent)):
        return (await service.wrap_up(agent.id, ticket_id, body.disposition, body.note)).to_dict()

    @app.post("/api/tickets/{ticket_id}/score")
    async def score(ticket_id: str, body: ScoreBody, agent: AgentProfile = Depends(current_agent)):
        if not (agent.is_supervisor or "TQ" in agent.skills):
            raise HTTPException(403, "quality scores need the TQ skill or a supervisor")
        await service.record_quality(ticket_id, body.score, by=agent.id, kind=body.kind)
        return {"ok": True}

    @app.get("/api/supervisor")
    async def supervisor_view(agent: AgentProfile = Depends(supervisor)):
        return await service.stats()

    @app.get("/api/supervisor/campaigns")
    async def campaign_view(agent: AgentProfile = Depends(supervisor)):
        if campaigns is None:
            return {"available": False, "campaigns": []}
        try:
            rows = await asyncio.to_thread(campaigns)
        except Exception as e:  # the campaign database is the dialer's: its trouble is one line here
            text = mask_secrets(str(e)).splitlines()[0][:200] if str(e) else type(e).__name__
            log.warning("campaign progress unreadable: %s", text)
            return JSONResponse({"detail": f"campaign progress unavailable: {text}"}, status_code=503)
        return {"available": True, "campaigns": [dict(r) for r in rows]}

    # -- live push ----------------------------------------------------------
    async def snapshot(agent: AgentProfile) -> dict[str, Any]:
        prof, st = await service.agent(agent.id)
        call = None
        if st.ticket:
            with contextlib.suppress(HandoffError):
                t = await service.status(st.ticket)
                call = {"ticket": t.to_dict(), "context": (await service.bundle(t)).agent_view()}
        snap = {"type": "snapshot", "agent": prof.to_dict(with_hash=False), "state": st.to_dict(), "call": call,
                "queues": await service.queue_view(visible_queues(prof))}
        if prof.is_supervisor:
            snap["supervisor"] = await service.stats()
        return snap

    @app.websocket("/ws")
    async def ws(websocket: WebSocket):
        if "token" in websocket.query_params or not same_origin(websocket.headers, origins):
            await websocket.close(code=4403)   # refused handshake (HTTP 403)
            return
        token = _token_from(websocket.headers, websocket.cookies)
        agent = await service.session_agent(token)
        if agent is None:
            await websocket.close(code=4401)   # before accept: the handshake is refused (HTTP 403)
            return
        await websocket.accept()
        changed = service.subscribe()

        async def until_closed() -> None:
            # The desktop sends nothing we need; reading is how a close is noticed.
            while (await websocket.receive())["type"] != "websocket.disconnect":
                pass

        closed = asyncio.create_task(until_closed())
        last = None
        try:
            while not closed.done():
                try:
                    if await service.session_agent(token) is None:   # logged out / removed meanwhile
                        await websocket.close(code=4401)
                        return
                    body = json.dumps(await snapshot(agent), ensure_ascii=False, sort_keys=True)
                except store_error_types():  # the store is down: keep the desk open, try again
                    await asyncio.wait({closed}, timeout=push_interval)
                    continue
                # Push only what changed; while callers wait their wait times
                # change, so that is about once per push_interval.
                if body != last:
                    await websocket.send_text(body)
                    last = body
                changed.clear()
                woke = asyncio.create_task(changed.wait())
                await asyncio.wait({woke, closed}, timeout=push_interval, return_when=asyncio.FIRST_COMPLETED)
                woke.cancel()
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            closed.cancel()
            service.unsubscribe(changed)

    return app
