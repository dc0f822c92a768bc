"""Shared store for many ivr workers: Redis.

Every compare-and-set runs as a Lua script, which Redis executes atomically,
so two workers can never offer or accept the same call twice. Keys live under
one prefix; ticket and agent *state* is JSON touched by the scripts, bundles
and agent profiles are JSON only Python reads. Durability is the server's:
run it with ``appendonly yes`` and ``appendfsync always`` for the same
guarantee as the SQLite store (the tests do)."""
from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from ivr.dsn import mask_secrets, mask_url
from ivr.handoff.errors import StoreError
from ivr.handoff.models import FINAL, AgentProfile, AgentState, Ticket
from ivr.handoff.store.base import ERASED_TICKET, Expect, check_changes, erased_bundle, erased_event, token_key
from ivr.handoff.store.sqlite_store import AGENT_FIELDS, TICKET_FIELDS

# Shared helpers for both scripts: queue score = (99 - priority) * 1e11 + seq.
_LUA_COMMON = r"""
local p = ARGV[1]
local function score(t) return string.format('%.0f', (99 - t.priority) * 100000000000 + t.seq) end
local function final(s) return s == 'done' or s == 'abandoned' or s == 'cancelled' end
local function matches(rec, exp)
  for k, allowed in pairs(exp) do
    local ok = false
    for _, v in ipairs(allowed) do if rec[k] == v then ok = true break end end
    if not ok then return false end
  end
  return true
end
"""

ADD_TICKET = _LUA_COMMON + r"""
local t = cjson.decode(ARGV[2])
t.seq = redis.call('INCR', p .. 'seq')
redis.call('SET', p .. 't:' .. t.id, cjson.encode(t))
redis.call('SET', p .. 'b:' .. t.id, ARGV[3])
redis.call('ZADD', p .. 'q:' .. t.queue, score(t), t.id)
redis.call('SADD', p .. 'live', t.id)
redis.call('ZADD', p .. 'events', ARGV[5], ARGV[4])
return t.seq
"""

TRANSITION = _LUA_COMMON + r"""
local tid, aid = ARGV[2], ARGV[5]
local t, a
if tid ~= '' then
  local raw = redis.call('GET', p .. 't:' .. tid)
  if not raw then return 0 end
  t = cjson.decode(raw)
  if not matches(t, cjson.decode(ARGV[3])) then return 0 end
end
if aid ~= '' then
  local raw = redis.call('GET', p .. 'as:' .. aid)
  if not raw then return 0 end
  a = cjson.decode(raw)
  if not matches(a, cjson.decode(ARGV[6])) then return 0 end
end
if t then
  local was_waiting, old_q = t.status == 'waiting', t.queue
  for k, v in pairs(cjson.decode(ARGV[4])) do t[k] = v end
  if was_waiting then redis.call('ZREM', p .. 'q:' .. old_q, tid) end
  if t.status == 'waiting' then redis.call('ZADD', p .. 'q:' .. t.queue, score(t), tid) end
  if final(t.status) then redis.call('SREM', p .. 'live', tid) else redis.call('SADD', p .. 'live', tid) end
  redis.call('SET', p .. 't:' .. tid, cjson.encode(t))
end
if a then
  for k, v in pairs(cjson.decode(ARGV[7])) do a[k] = v end
  redis.call('SET', p .. 'as:' .. aid, cjson.encode(a))
end
if ARGV[8] ~= '' then redis.call('ZADD', p .. 'events', ARGV[9], ARGV[8]) end
return 1
"""


class RedisStore:
    def __init__(self, url: str, prefix: str = "ivr:handoff:", timeout: float = 2.0) -> None:
        # A healthy Redis answers in milliseconds; a hung one (SIGSTOP, a full
        # network buffer) must fail fast so the call hears the busy prompt and
        # retries, rather than sit in silence on a long socket timeout.
        import redis

        # ``url`` is what users, logs and error bodies see: its password masked.
        self.url = mask_url(url)
        self.prefix = prefix
        # Any: redis-py types every reply as bytes | str | Awaitable (its sync and async clients share
        # the hints); with decode_responses=True every reply here is str.
        self._r: Any
        try:
            self._r = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout,
                                           decode_responses=True)
            self._r.ping()
        except (redis.RedisError, ValueError) as e:
            raise StoreError(f"cannot reach Redis ({mask_secrets(str(e))})", self.url) from None
        self._add = self._r.register_script(ADD_TICKET)
        self._transition = self._r.register_script(TRANSITION)

    def _k(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    # -- tickets ----------------------------------------------------------
    def add_ticket(self, ticket: Ticket, bundle: Mapping[str, Any], event: Mapping[str, Any]) -> Ticket:
        seq = self._add(args=[self.prefix, json.dumps(ticket.to_dict()), json.dumps(bundle, ensure_ascii=False),
                              _event_member(event), repr(float(event["at"]))])
        return ticket.with_(seq=int(seq))

    @staticmethod
    def _decode_ticket(raw: str) -> Ticket:
        d = json.loads(raw)
        # cjson writes whole floats as ints and ints stay ints; fix the types we care about
        d["seq"] = int(d["seq"])
        d["priority"] = int(d["priority"])
        d["transfers"] = int(d.get("transfers", 0))
        return Ticket.from_dict(d)

    def get_ticket(self, ticket_id: str) -> Ticket | None:
        raw = self._r.get(self._k("t", ticket_id))
        return self._decode_ticket(raw) if raw else None

    def get_bundle(self, ticket_id: str) -> dict[str, Any] | None:
        raw = self._r.get(self._k("b", ticket_id))
        return json.loads(raw) if raw else None

    def _many(self, ids: list[str]) -> list[Ticket]:
        if not ids:
            return []
        raws = self._r.mget([self._k("t", i) for i in ids])
        return [self._decode_ticket(r) for r in raws if r]

    def waiting(self, queue: str) -> list[Ticket]:
        return self._many(self._r.zrange(self._k("q", queue), 0, -1))

    def live_tickets(self) -> list[Ticket]:
        return sorted(self._many(list(self._r.smembers(self._k("live")))), key=lambda t: t.seq)

    def position(self, ticket_id: str) -> int | None:
        t = self.get_ticket(ticket_id)
        if not t or t.status != "waiting":
            return None
        rank = self._r.zrank(self._k("q", t.queue), ticket_id)
        return None if rank is None else rank + 1

    def transition(self, ticket_id, t_expect: Expect, t_changes, agent_id, a_expect: Expect, a_changes,
                   event=None) -> bool:
        check_changes(t_changes, TICKET_FIELDS, "ticket")
        check_changes(a_changes, AGENT_FIELDS, "agent")
        args = [self.prefix, ticket_id or "", _obj(t_expect), _obj(t_changes),
                agent_id or "", _obj(a_expect), _obj(a_changes),
                _event_member(event) if event else "", repr(float(event["at"])) if event else "0"]
        return bool(self._transition(args=args))

    # -- agents -----------------------------------------------------------
    def put_agent(self, profile: AgentProfile, state: AgentState | None = None) -> None:
        pipe = self._r.pipeline(transaction=True)
        pipe.set(self._k("a", profile.id), json.dumps(profile.to_dict(), ensure_ascii=False))
        if state is not None:
            pipe.set(self._k("as", profile.id), json.dumps(state.to_dict()))
        else:
            pipe.set(self._k("as", profile.id), json.dumps(AgentState(profile.id).to_dict()), nx=True)
        pipe.sadd(self._k("agents"), profile.id)
        pipe.execute()

    def get_agent(self, agent_id: str) -> AgentProfile | None:
        raw = self._r.get(self._k("a", agent_id))
        return AgentProfile.from_dict(json.loads(raw)) if raw else None

    def agent_state(self, agent_id: str) -> AgentState | None:
        raw = self._r.get(self._k("as", agent_id))
        return AgentState.from_dict(json.loads(raw)) if raw else None

    def agents(self) -> list[tuple[AgentProfile, AgentState]]:
        ids = sorted(self._r.smembers(self._k("agents")))
        if not ids:
            return []
        profiles = self._r.mget([self._k("a", i) for i in ids])
        states = self._r.mget([self._k("as", i) for i in ids])
        return [(AgentProfile.from_dict(json.loads(p)), AgentState.from_dict(json.loads(s)))
                for p, s in zip(profiles, states, strict=True) if p and s]

    def remove_agent(self, agent_id: str) -> bool:
        pipe = self._r.pipeline(transaction=True)
        pipe.delete(self._k("a", agent_id), self._k("as", agent_id))
        pipe.srem(self._k("agents"), agent_id)
        return bool(pipe.execute()[0])

    # -- events, sessions -------------------------------------------------
    def add_event(self, event: Mapping[str, Any]) -> None:
        self._r.zadd(self._k("events"), {_event_member(event): float(event["at"])})

    def events(self, since: float = 0.0) -> list[dict[str, Any]]:
        out = [json.loads(e) for e in self._r.zrangebyscore(self._k("events"), since, "+inf")]
        for e in out:
            e.pop("eid", None)
        return out

    def put_session(self, token: str, agent_id: str, expires: float) -> None:
        # The stored expiry is authoritative (service clock); the key TTL only
        # makes Redis forget dead sessions eventually.
        ttl = max(3600, int(expires - time.time()) + 60)
        self._r.set(self._k("s", token_key(token)), json.dumps({"agent_id": agent_id, "expires": expires}), ex=ttl)

    def get_session(self, token: str, now: float) -> str | None:
        raw = self._r.get(self._k("s", token_key(token)))
        if not raw:
            return None
        d = json.loads(raw)
        return d["agent_id"] if d["expires"] > now else None

    def drop_session(self, token: str) -> None:
        self._r.delete(self._k("s", token_key(token)))

    # -- PDPA ---------------------------------------------------------------
    def tickets_of_calls(self, call_ids: Sequence[str]) -> list[Ticket]:
        """A scan of every ticket: an erasure is rare, and no index by call id is kept for it."""
        ids = {str(c) for c in call_ids if c}
        if not ids:
            return []
        found: list[Ticket] = []
        keys = list(self._r.scan_iter(match=self._k("t", "*"), count=500))
        for i in range(0, len(keys), 500):
            found.extend(t for t in (self._decode_ticket(r) for r in self._r.mget(keys[i:i + 500]) if r)
                         if t.call_id in ids)
        return sorted(found, key=lambda t: t.seq)

    def erase_tickets(self, ticket_ids: Sequence[str]) -> int:
        """As ``SqliteStore.erase_tickets``; each ticket under WATCH, so one that is
        still live or changes meanwhile is left alone."""
        import redis

        ids = sorted({str(t) for t in ticket_ids if t})
        erased: set[str] = set()
        for tid in ids:
            tkey, bkey = self._k("t", tid), self._k("b", tid)
            with self._r.pipeline() as pipe:
                try:
                    pipe.watch(tkey, bkey)
                    raw, braw = pipe.get(tkey), pipe.get(bkey)
                    if not raw:
                        continue
                    t = json.loads(raw)
                    if t.get("status") not in FINAL:
                        continue
                    t.update(ERASED_TICKET)
                    bundle = erased_bundle(json.loads(braw) if braw else None, str(t.get("call_id") or ""))
                    pipe.multi()
                    pipe.set(tkey, json.dumps(t))
                    pipe.set(bkey, json.dumps(bundle, ensure_ascii=False))
                    pipe.execute()
                    erased.add(tid)
                except redis.WatchError:  # changed under us: not closed after all, or erased by another
                    continue
        if erased:
            pipe = self._r.pipeline(transaction=True)
            for member, score in self._r.zrangebyscore(self._k("events"), "-inf", "+inf", withscores=True):
                ev = json.loads(member)
                cleaned = erased_event(ev) if ev.get("ticket") in erased else None
                if cleaned is not None:
                    pipe.zrem(self._k("events"), member)
                    pipe.zadd(self._k("events"), {json.dumps(cleaned, ensure_ascii=False): score})
            pipe.execute()
        return len(erased)

    def clear(self) -> None:
        keys = list(self._r.scan_iter(match=self.prefix + "*", count=500))
        if keys:
            self._r.delete(*keys)

    def close(self) -> None:
        self._r.close()


def _event_member(event: Mapping[str, Any]) -> str:
    # Events live in a sorted set by time (range reads for the stats window);
    # a random id keeps two identical events from collapsing into one member.
    return json.dumps({**event, "eid": uuid.uuid4().hex[:12]}, ensure_ascii=False)


def _obj(d: Mapping[str, Any]) -> str:
    # An empty Lua table must decode from "{}" (cjson would write [] back, but we only decode here).
    return json.dumps(dict(d)) if d else "{}"
