#!/usr/bin/python3
"""A small, strict Matrix homeserver for testing `ferry export matrix`.

It implements the Client-Server and Application Service behaviour the exporter relies on, and refuses what a
real homeserver (Synapse, Conduit, Dendrite) refuses, so an exporter that passes here also passes there:

  * application-service token auth (Authorization: Bearer, or the deprecated access_token query parameter);
    `user_id` masquerading only inside the registration's user namespace (or the sender_localpart user), and
    only for users the AS has registered;
  * POST /register with m.login.application_service, M_EXCLUSIVE outside the namespace, M_USER_IN_USE;
  * `ts` honoured on send/state PUTs only for AS requests (ignored on joins and createRoom, as Synapse does);
  * transaction-id idempotency per (user, txnId);
  * membership rules: sending needs `join`; joining an invite-only room needs an invite; power levels for
    events/state/invites;
  * relation checks (target exists in the room, no threads from events with relations, edits only by the
    original sender, no duplicate annotations);
  * 429 M_LIMIT_EXCEEDED with retry_after_ms (configurable storms), injected 5xx before or after the request
    took effect (to test retries and idempotency), fixed per-request latency (for the benchmark);
  * media upload, authenticated (v1) and legacy (v3) download; /messages, /relations, room state read-back.

State lives in memory. Test hooks under /_test/: GET stats, POST config, GET rooms, GET events.
Run: server.py --registration reg.yaml --server-name example.org --port-file /tmp/port
"""
import argparse
import asyncio
import base64
import json
import math
import os
import re
import secrets
import sys
import time

import yaml
from aiohttp import web

MAX_EVENT_BYTES = 65536
LOCALPART_RE = re.compile(r"^[a-z0-9._=\-/+]+$")


def err(status, errcode, message, **extra):
    body = {"errcode": errcode, "error": message}
    body.update(extra)
    return web.json_response(body, status=status)


class MatrixError(Exception):
    def __init__(self, status, errcode, message, **extra):
        super().__init__(message)
        self.status, self.errcode, self.message, self.extra = status, errcode, message, extra


def now_ms():
    return int(time.time() * 1000)


class Room:
    def __init__(self, room_id):
        self.room_id = room_id
        self.state = {}  # (type, state_key) -> event
        self.timeline = []  # events in stream order

    def state_content(self, etype, key=""):
        ev = self.state.get((etype, key))
        return ev["content"] if ev else None

    def membership(self, user):
        c = self.state_content("m.room.member", user)
        return c.get("membership") if c else None

    def power(self, user):
        pl = self.state_content("m.room.power_levels") or {}
        return int(pl.get("users", {}).get(user, pl.get("users_default", 0)))

    def required(self, etype, is_state):
        pl = self.state_content("m.room.power_levels") or {}
        if etype in pl.get("events", {}):
            return int(pl["events"][etype])
        return int(pl.get("state_default", 50) if is_state else pl.get("events_default", 0))


class Homeserver:
    def __init__(self, args):
        with open(args.registration) as f:
            reg = yaml.safe_load(f)
        self.server_name = args.server_name
        self.as_token = reg["as_token"]
        self.sender = "@%s:%s" % (reg["sender_localpart"], self.server_name)
        ns = reg.get("namespaces") or {}
        self.user_regexes = [re.compile(n["regex"]) for n in (ns.get("users") or [])]
        self.alias_regexes = [re.compile(n["regex"]) for n in (ns.get("aliases") or [])]
        self.users = {self.sender: {"displayname": None, "avatar_url": None}}
        self.rooms = {}
        self.events = {}  # event_id -> (room_id, event)
        self.aliases = {}
        self.txns = {}  # (user, txn_id) -> event_id
        self.media = {}  # media_id -> (content_type, filename, bytes)
        self.annotations = set()  # (target, sender, key)
        self.config = {
            "latency_ms": args.latency_ms,
            "storm_every": args.storm_every,  # every Nth counted request starts a storm ...
            "storm_length": args.storm_length,  # ... of this many 429s
            "retry_after_ms": args.retry_after_ms,
            "fail_before_every": 0,  # every Nth send answers 502 without doing anything
            "fail_after_every": 0,  # every Nth send takes effect, then answers 500 (lost response)
            "max_upload": args.max_upload,
            "forbid_senders": [],  # sends by these users answer 403 (a permanent refusal, for failure reports)
        }
        self.counter = 0
        self.storm_left = 0
        self.send_counter = 0
        self.stats = {"requests": 0, "rate_limited": 0, "failed_before": 0, "failed_after": 0,
                      "events": 0, "txn_replays": 0, "uploads": 0, "forbidden": 0}

    # ---- helpers ------------------------------------------------------------------------------------
    def new_event_id(self):
        return "$" + base64.urlsafe_b64encode(secrets.token_bytes(18)).decode().rstrip("=")

    def in_user_namespace(self, user_id):
        return any(r.fullmatch(user_id) for r in self.user_regexes)

    def auth(self, request):
        """Returns (user_id, is_as). Only the AS token exists on this server."""
        token = None
        h = request.headers.get("Authorization", "")
        if h.startswith("Bearer "):
            token = h[7:]
        elif "access_token" in request.query:
            token = request.query["access_token"]
        if token is None:
            raise MatrixError(401, "M_MISSING_TOKEN", "Missing access token")
        if token != self.as_token:
            raise MatrixError(401, "M_UNKNOWN_TOKEN", "Unrecognised access token")
        user = request.query.get("user_id")
        if user is None:
            return self.sender, True
        if user != self.sender and not self.in_user_namespace(user):
            raise MatrixError(403, "M_FORBIDDEN", "Application service cannot masquerade as this user (%s)." % user)
        if user not in self.users:
            raise MatrixError(403, "M_FORBIDDEN", "Application service has not registered this user (%s)" % user)
        return user, True

    def ts_for(self, request, is_as):
        ts = request.query.get("ts")
        if ts is None or not is_as:
            return now_ms()
        if not re.fullmatch(r"[0-9]{1,15}", ts):
            raise MatrixError(400, "M_INVALID_PARAM", "ts must be an integer")
        return int(ts)

    def room(self, room_id):
        r = self.rooms.get(room_id)
        if r is None:
            raise MatrixError(404, "M_NOT_FOUND", "Unknown room %s" % room_id)
        return r

    def append(self, room, etype, sender, content, ts, state_key=None):
        ev = {"type": etype, "sender": sender, "content": content, "origin_server_ts": ts,
              "event_id": self.new_event_id(), "room_id": room.room_id, "unsigned": {}}
        if state_key is not None:
            ev["state_key"] = state_key
        size = len(json.dumps(ev, ensure_ascii=False).encode())
        if size > MAX_EVENT_BYTES:
            raise MatrixError(413, "M_TOO_LARGE", "Event is too large (%d bytes)" % size)
        room.timeline.append(ev)
        self.events[ev["event_id"]] = (room.room_id, ev)
        if state_key is not None:
            room.state[(etype, state_key)] = ev
        self.stats["events"] += 1
        return ev

    def check_relation(self, room, sender, etype, content):
        rel = content.get("m.relates_to")
        if rel is None:
            return
        if not isinstance(rel, dict):
            raise MatrixError(400, "M_BAD_JSON", "m.relates_to must be an object")
        reply = rel.get("m.in_reply_to")
        if reply is not None:
            if not isinstance(reply, dict) or not isinstance(reply.get("event_id"), str):
                raise MatrixError(400, "M_BAD_JSON", "m.in_reply_to.event_id must be a string")
        rtype = rel.get("rel_type")
        if rtype is None:
            return
        target = rel.get("event_id")
        if not isinstance(target, str):
            raise MatrixError(400, "M_BAD_JSON", "relation without event_id")
        found = self.events.get(target)
        if found is None or found[0] != room.room_id:
            raise MatrixError(400, "M_UNKNOWN", "Relation target %s is not in this room" % target)
        tev = found[1]
        trel = (tev["content"].get("m.relates_to") or {}).get("rel_type")
        if rtype == "m.thread":
            if trel is not None and trel != "m.thread":
                raise MatrixError(400, "M_UNKNOWN", "Cannot start threads from an event with a relation")
            if trel == "m.thread":
                raise MatrixError(400, "M_UNKNOWN", "Cannot start threads from an event in a thread")
        elif rtype == "m.replace":
            if tev["sender"] != sender or tev["type"] != etype:
                raise MatrixError(400, "M_UNKNOWN", "Edits must come from the original sender, same type")
            if not isinstance(content.get("m.new_content"), dict):
                raise MatrixError(400, "M_BAD_JSON", "m.replace without m.new_content")
        elif rtype == "m.annotation":
            key = rel.get("key")
            if not isinstance(key, str) or not key:
                raise MatrixError(400, "M_BAD_JSON", "annotation without key")
            if (target, sender, key) in self.annotations:
                raise MatrixError(400, "M_DUPLICATE_ANNOTATION", "Can't send same reaction twice")

    def check_content(self, etype, content):
        if not isinstance(content, dict):
            raise MatrixError(400, "M_NOT_JSON", "Content must be a JSON object")
        if etype == "m.room.message":
            if not isinstance(content.get("msgtype"), str) or not isinstance(content.get("body"), str):
                raise MatrixError(400, "M_BAD_JSON", "m.room.message needs string msgtype and body")
            if content["msgtype"] in ("m.image", "m.file", "m.video", "m.audio"):
                url = content.get("url")
                if not isinstance(url, str) or not url.startswith("mxc://"):
                    raise MatrixError(400, "M_BAD_JSON", "%s needs an mxc:// url" % content["msgtype"])
            if "format" in content and not isinstance(content.get("formatted_body"), str):
                raise MatrixError(400, "M_BAD_JSON", "format without formatted_body")
        if etype == "m.reaction":
            rel = content.get("m.relates_to") or {}
            if rel.get("rel_type") != "m.annotation":
                raise MatrixError(400, "M_BAD_JSON", "m.reaction must be an m.annotation")

    # ---- request gate (latency, storms, injected failures) ------------------------------------------
    async def gate(self, request, counted=True):
        self.stats["requests"] += 1
        if self.config["latency_ms"]:
            await asyncio.sleep(self.config["latency_ms"] / 1000.0)
        if not counted:
            return None
        self.counter += 1
        every = self.config["storm_every"]
        if every and self.storm_left == 0 and self.counter % every == 0:
            self.storm_left = self.config["storm_length"]
        if self.storm_left > 0:
            self.storm_left -= 1
            self.stats["rate_limited"] += 1
            ms = self.config["retry_after_ms"]
            resp = err(429, "M_LIMIT_EXCEEDED", "Too many requests", retry_after_ms=ms)
            resp.headers["Retry-After"] = str(max(1, math.ceil(ms / 1000)))
            return resp
        return None


def build_app(hs):
    routes = web.RouteTableDef()
    C = "/_matrix/client/{v:(v3|r0)}"

    def handler(fn, counted=True):
        async def wrapped(request):
            blocked = await hs.gate(request, counted)
            if blocked is not None:
                return blocked
            try:
                return await fn(request)
            except MatrixError as e:
                if e.status == 403:
                    hs.stats["forbidden"] += 1
                return err(e.status, e.errcode, e.message, **e.extra)
        return wrapped

    async def json_body(request):
        try:
            raw = await request.read()
            body = json.loads(raw or b"{}")
        except (ValueError, UnicodeDecodeError):
            raise MatrixError(400, "M_NOT_JSON", "Content not JSON.")
        if not isinstance(body, dict):
            raise MatrixError(400, "M_NOT_JSON", "Content must be a JSON object")
        return body

    async def versions(request):
        return web.json_response({"versions": ["v1.1", "v1.2", "v1.3", "v1.4", "v1.5", "v1.6", "v1.7",
                                               "v1.8", "v1.9", "v1.10", "v1.11"], "unstable_features": {}})

    async def whoami(request):
        user, _ = hs.auth(request)
        return web.json_response({"user_id": user, "is_guest": False})

    async def register(request):
        body = await json_body(request)
        h = request.headers.get("Authorization", "")
        if not h.startswith("Bearer ") and "access_token" not in request.query:
            raise MatrixError(403, "M_FORBIDDEN", "Registration is disabled on this test server")
        token = h[7:] if h.startswith("Bearer ") else request.query["access_token"]
        if token != hs.as_token:
            raise MatrixError(401, "M_UNKNOWN_TOKEN", "Unrecognised access token")
        if body.get("type") != "m.login.application_service":
            raise MatrixError(400, "M_UNKNOWN", "Appservice token must use m.login.application_service type")
        local = body.get("username")
        if not isinstance(local, str) or not LOCALPART_RE.match(local):
            raise MatrixError(400, "M_INVALID_USERNAME", "User ID can only contain a-z, 0-9, or '=_-./+'")
        user = "@%s:%s" % (local, hs.server_name)
        if not hs.in_user_namespace(user):
            raise MatrixError(400, "M_EXCLUSIVE", "Invalid user localpart for this application service.")
        if user in hs.users:
            raise MatrixError(400, "M_USER_IN_USE", "User ID already taken.")
        hs.users[user] = {"displayname": local, "avatar_url": None}
        resp = {"user_id": user, "home_server": hs.server_name}
        if not body.get("inhibit_login"):
            resp.update({"access_token": "not-used-" + secrets.token_hex(8), "device_id": "FERRYTEST"})
        return web.json_response(resp)

    async def profile_put(request):
        user, _ = hs.auth(request)
        target, field = request.match_info["user"], request.match_info["field"]
        if target != user:
            raise MatrixError(403, "M_FORBIDDEN", "Cannot set another user's profile")
        body = await json_body(request)
        value = body.get(field)
        if value is not None and not isinstance(value, str):
            raise MatrixError(400, "M_BAD_JSON", "%s must be a string" % field)
        if field == "avatar_url" and value and not value.startswith("mxc://"):
            raise MatrixError(400, "M_BAD_JSON", "avatar_url must be an mxc:// URI")
        hs.users[user][field] = value
        return web.json_response({})

    async def profile_get(request):
        target = request.match_info["user"]
        p = hs.users.get(target)
        if p is None:
            raise MatrixError(404, "M_NOT_FOUND", "Profile was not found")
        return web.json_response({k: v for k, v in p.items() if v is not None})

    async def create_room(request):
        user, is_as = hs.auth(request)
        body = await json_body(request)
        preset = body.get("preset") or ("public_chat" if body.get("visibility") == "public" else "private_chat")
        if preset not in ("public_chat", "private_chat", "trusted_private_chat"):
            raise MatrixError(400, "M_INVALID_PARAM", "Unknown preset")
        alias = None
        if body.get("room_alias_name") is not None:
            local = body["room_alias_name"]
            if not isinstance(local, str) or ":" in local or not local:
                raise MatrixError(400, "M_INVALID_PARAM", "Invalid characters in room alias")
            alias = "#%s:%s" % (local, hs.server_name)
            if alias in hs.aliases:
                raise MatrixError(400, "M_ROOM_IN_USE", "Room alias already taken")
        room_id = "!%s:%s" % (secrets.token_urlsafe(12).replace("-", "a").replace("_", "b"), hs.server_name)
        room = Room(room_id)
        hs.rooms[room_id] = room
        ts = now_ms()  # createRoom takes no ts (MSC3997): everything carries the import date
        create = dict(body.get("creation_content") or {})
        create.update({"creator": user, "room_version": "10"})
        hs.append(room, "m.room.create", user, create, ts, "")
        hs.append(room, "m.room.member", user, {"membership": "join",
                  "displayname": hs.users[user].get("displayname")}, ts, user)
        pl = {"users": {user: 100}, "users_default": 0, "events": {"m.room.name": 50,
              "m.room.power_levels": 100, "m.room.history_visibility": 100, "m.room.canonical_alias": 50,
              "m.room.avatar": 50, "m.room.tombstone": 100, "m.room.server_acl": 100,
              "m.room.encryption": 100}, "events_default": 0, "state_default": 50, "ban": 50, "kick": 50,
              "redact": 50, "invite": 0 if preset != "public_chat" else 50}
        override = body.get("power_level_content_override") or {}
        if not isinstance(override, dict):
            raise MatrixError(400, "M_BAD_JSON", "power_level_content_override must be an object")
        pl.update(override)
        hs.append(room, "m.room.power_levels", user, pl, ts, "")
        if alias:
            hs.aliases[alias] = room_id
            hs.append(room, "m.room.canonical_alias", user, {"alias": alias}, ts, "")
        hs.append(room, "m.room.join_rules", user,
                  {"join_rule": "public" if preset == "public_chat" else "invite"}, ts, "")
        hs.append(room, "m.room.history_visibility", user, {"history_visibility": "shared"}, ts, "")
        for st in body.get("initial_state") or []:
            if not isinstance(st, dict) or not isinstance(st.get("type"), str) or \
                    not isinstance(st.get("content"), dict):
                raise MatrixError(400, "M_BAD_JSON", "initial_state entries need type and content")
            hs.append(room, st["type"], user, st["content"], ts, st.get("state_key", ""))
        if body.get("name") is not None:
            hs.append(room, "m.room.name", user, {"name": body["name"]}, ts, "")
        if body.get("topic") is not None:
            hs.append(room, "m.room.topic", user, {"topic": body["topic"]}, ts, "")
        for invitee in body.get("invite") or []:
            hs.append(room, "m.room.member", user, {"membership": "invite"}, ts, invitee)
        return web.json_response({"room_id": room_id})

    def resolve(room_or_alias):
        if room_or_alias.startswith("#"):
            rid = hs.aliases.get(room_or_alias)
            if rid is None:
                raise MatrixError(404, "M_NOT_FOUND", "Room alias %s not found" % room_or_alias)
            return rid
        return room_or_alias

    async def directory_get(request):
        alias = request.match_info["alias"]
        rid = hs.aliases.get(alias)
        if rid is None:
            raise MatrixError(404, "M_NOT_FOUND", "Room alias %s not found" % alias)
        return web.json_response({"room_id": rid, "servers": [hs.server_name]})

    async def join(request):
        user, _ = hs.auth(request)
        room = hs.room(resolve(request.match_info["room"]))
        await json_body(request)
        m = room.membership(user)
        if m == "ban":
            raise MatrixError(403, "M_FORBIDDEN", "You are banned from this room")
        rule = (room.state_content("m.room.join_rules") or {}).get("join_rule", "invite")
        if m not in ("join", "invite") and rule != "public":
            raise MatrixError(403, "M_FORBIDDEN", "You are not invited to this room.")
        if m != "join":
            hs.append(room, "m.room.member", user, {"membership": "join",
                      "displayname": hs.users[user].get("displayname"),
                      "avatar_url": hs.users[user].get("avatar_url")}, now_ms(), user)
        return web.json_response({"room_id": room.room_id})

    async def invite(request):
        user, _ = hs.auth(request)
        room = hs.room(request.match_info["room"])
        body = await json_body(request)
        target = body.get("user_id")
        if not isinstance(target, str):
            raise MatrixError(400, "M_MISSING_PARAM", "Missing user_id")
        if room.membership(user) != "join":
            raise MatrixError(403, "M_FORBIDDEN", "You are not in the room")
        pl = room.state_content("m.room.power_levels") or {}
        if room.power(user) < int(pl.get("invite", 0)):
            raise MatrixError(403, "M_FORBIDDEN", "You don't have permission to invite users")
        m = room.membership(target)
        if m == "join":
            raise MatrixError(403, "M_FORBIDDEN", "%s is already in the room." % target)
        if m != "invite":
            hs.append(room, "m.room.member", user, {"membership": "invite"}, now_ms(), target)
        return web.json_response({})

    async def state_put(request):
        user, is_as = hs.auth(request)
        room = hs.room(request.match_info["room"])
        etype = request.match_info["type"]
        key = request.match_info.get("key", "")
        content = await json_body(request)
        if room.membership(user) != "join":
            raise MatrixError(403, "M_FORBIDDEN", "User %s not in room %s" % (user, room.room_id))
        if etype == "m.room.member":
            raise MatrixError(400, "M_UNKNOWN", "Use /join, /invite and /leave for membership on this server")
        if key.startswith("@") and key != user and room.power(user) < 100:
            raise MatrixError(403, "M_FORBIDDEN", "You cannot set state keyed by another user")
        if room.power(user) < room.required(etype, True):
            raise MatrixError(403, "M_FORBIDDEN", "You don't have permission to post that to the room. "
                              "user_level (%d) < send_level (%d)" % (room.power(user), room.required(etype, True)))
        ts = hs.ts_for(request, is_as)
        old = room.state.get((etype, key))
        if old is not None and old["content"] == content and old["sender"] == user:
            return web.json_response({"event_id": old["event_id"]})
        ev = hs.append(room, etype, user, content, ts, key)
        return web.json_response({"event_id": ev["event_id"]})

    async def state_get_all(request):
        user, _ = hs.auth(request)
        room = hs.room(request.match_info["room"])
        if room.membership(user) != "join":
            raise MatrixError(403, "M_FORBIDDEN", "User not in room")
        return web.json_response(list(room.state.values()))

    async def state_get(request):
        user, _ = hs.auth(request)
        room = hs.room(request.match_info["room"])
        if room.membership(user) != "join":
            raise MatrixError(403, "M_FORBIDDEN", "User not in room")
        ev = room.state.get((request.match_info["type"], request.match_info.get("key", "")))
        if ev is None:
            raise MatrixError(404, "M_NOT_FOUND", "Event not found.")
        return web.json_response(ev["content"])

    async def send(request):
        user, is_as = hs.auth(request)
        room = hs.room(request.match_info["room"])
        etype, txn = request.match_info["type"], request.match_info["txn"]
        content = await json_body(request)
        key = (user, txn)
        if key in hs.txns:
            hs.stats["txn_replays"] += 1
            return web.json_response({"event_id": hs.txns[key]})
        hs.send_counter += 1
        fb = hs.config["fail_before_every"]
        if fb and hs.send_counter % fb == 0:
            hs.stats["failed_before"] += 1
            return err(502, "M_UNKNOWN", "Bad gateway (injected)")
        if room.membership(user) != "join":
            raise MatrixError(403, "M_FORBIDDEN", "User %s not in room %s" % (user, room.room_id))
        if user in hs.config["forbid_senders"]:
            raise MatrixError(403, "M_FORBIDDEN", "Sender %s is not allowed to post here (test)" % user)
        if room.power(user) < room.required(etype, False):
            raise MatrixError(403, "M_FORBIDDEN", "You don't have permission to post that to the room.")
        hs.check_content(etype, content)
        hs.check_relation(room, user, etype, content)
        ts = hs.ts_for(request, is_as)
        ev = hs.append(room, etype, user, content, ts)
        ev["unsigned"]["transaction_id"] = txn
        hs.txns[key] = ev["event_id"]
        rel = content.get("m.relates_to") or {}
        if rel.get("rel_type") == "m.annotation":
            hs.annotations.add((rel["event_id"], user, rel["key"]))
        fa = hs.config["fail_after_every"]
        if fa and hs.send_counter % fa == 0:
            hs.stats["failed_after"] += 1
            return err(500, "M_UNKNOWN", "Internal server error (injected after commit)")
        return web.json_response({"event_id": ev["event_id"]})

    def visible(room, user):
        if room.membership(user) != "join":
            raise MatrixError(403, "M_FORBIDDEN", "User %s not in room %s" % (user, room.room_id))

    async def messages(request):
        user, _ = hs.auth(request)
        room = hs.room(request.match_info["room"])
        visible(room, user)
        q = request.query
        d = q.get("dir", "b")
        if d not in ("b", "f"):
            raise MatrixError(400, "M_INVALID_PARAM", "dir must be b or f")
        try:
            limit = min(max(int(q.get("limit", "10")), 0), 1000)
        except ValueError:
            raise MatrixError(400, "M_INVALID_PARAM", "limit must be an integer")
        n = len(room.timeline)
        frm = q.get("from")
        if frm is None:
            pos = n if d == "b" else 0
        else:
            if not re.fullmatch(r"t[0-9]+", frm):
                raise MatrixError(400, "M_INVALID_PARAM", "Invalid from token")
            pos = min(int(frm[1:]), n)
        if d == "b":
            lo = max(0, pos - limit)
            chunk = list(reversed(room.timeline[lo:pos]))
            end = lo
        else:
            hi = min(n, pos + limit)
            chunk = room.timeline[pos:hi]
            end = hi
        resp = {"chunk": chunk, "start": "t%d" % pos}
        if chunk:
            resp["end"] = "t%d" % end
        return web.json_response(resp)

    async def relations(request):
        user, _ = hs.auth(request)
        room = hs.room(request.match_info["room"])
        visible(room, user)
        target = request.match_info["event"]
        if target not in hs.events:
            raise MatrixError(404, "M_NOT_FOUND", "Event not found")
        rtype = request.match_info.get("rel_type")
        etype = request.match_info.get("event_type")
        out = []
        for ev in room.timeline:
            rel = ev["content"].get("m.relates_to") if isinstance(ev["content"], dict) else None
            if not isinstance(rel, dict) or rel.get("event_id") != target or not rel.get("rel_type"):
                continue
            if rtype and rel.get("rel_type") != rtype:
                continue
            if etype and ev["type"] != etype:
                continue
            out.append(ev)
        if request.query.get("dir", "b") == "b":
            out.reverse()
        frm = int(request.query.get("from", "0") or 0)
        limit = min(int(request.query.get("limit", "1000")), 1000)
        page = out[frm:frm + limit]
        resp = {"chunk": page}
        if frm + limit < len(out):
            resp["next_batch"] = str(frm + limit)
        return web.json_response(resp)

    async def joined_members(request):
        user, _ = hs.auth(request)
        room = hs.room(request.match_info["room"])
        visible(room, user)
        joined = {}
        for (t, k), ev in room.state.items():
            if t == "m.room.member" and ev["content"].get("membership") == "join":
                joined[k] = {"display_name": ev["content"].get("displayname"),
                             "avatar_url": ev["content"].get("avatar_url")}
        return web.json_response({"joined": joined})

    async def upload(request):
        user, _ = hs.auth(request)
        limit = hs.config["max_upload"]
        if request.content_length is not None and request.content_length > limit:
            raise MatrixError(413, "M_TOO_LARGE", "Upload exceeds %d bytes" % limit)
        data = bytearray()
        async for chunk in request.content.iter_chunked(65536):
            data.extend(chunk)
            if len(data) > limit:
                raise MatrixError(413, "M_TOO_LARGE", "Upload exceeds %d bytes" % limit)
        media_id = secrets.token_urlsafe(16)
        hs.media[media_id] = (request.headers.get("Content-Type", "application/octet-stream"),
                              request.query.get("filename"), bytes(data), user)
        hs.stats["uploads"] += 1
        return web.json_response({"content_uri": "mxc://%s/%s" % (hs.server_name, media_id)})

    async def download(request, authenticated):
        if authenticated:
            hs.auth(request)
        server, media_id = request.match_info["server"], request.match_info["media"]
        m = hs.media.get(media_id) if server == hs.server_name else None
        if m is None:
            raise MatrixError(404, "M_NOT_FOUND", "Not found")
        return web.Response(body=m[2], content_type=m[0].split(";")[0])

    # ---- test hooks --------------------------------------------------------------------------------
    async def t_stats(request):
        return web.json_response(dict(hs.stats, config=hs.config))

    async def t_config(request):
        body = await request.json()
        for k, v in body.items():
            if k not in hs.config:
                return err(400, "M_INVALID_PARAM", "unknown config key " + k)
            hs.config[k] = v
        hs.storm_left = 0
        return web.json_response(hs.config)

    async def t_rooms(request):
        out = []
        for rid, room in hs.rooms.items():
            create = room.state_content("m.room.create") or {}
            out.append({"room_id": rid, "name": (room.state_content("m.room.name") or {}).get("name"),
                        "type": create.get("type"), "events": len(room.timeline)})
        return web.json_response(out)

    add = lambda method, path, fn, counted=True: routes.route(method, path)(handler(fn, counted))
    add("GET", "/_matrix/client/versions", versions, False)
    add("GET", C + "/account/whoami", whoami)
    add("POST", C + "/register", register)
    add("PUT", C + "/profile/{user}/{field:(displayname|avatar_url)}", profile_put)
    add("GET", C + "/profile/{user}", profile_get)
    add("POST", C + "/createRoom", create_room)
    add("GET", C + "/directory/room/{alias}", directory_get)
    add("POST", C + "/join/{room}", join)
    add("POST", C + "/rooms/{room}/join", join)
    add("POST", C + "/rooms/{room}/invite", invite)
    add("PUT", C + "/rooms/{room}/state/{type}", state_put)
    add("PUT", C + "/rooms/{room}/state/{type}/", state_put)  # empty state key, trailing slash (spec: optional)
    add("PUT", C + "/rooms/{room}/state/{type}/{key}", state_put)
    add("GET", C + "/rooms/{room}/state", state_get_all)
    add("GET", C + "/rooms/{room}/state/{type}", state_get)
    add("GET", C + "/rooms/{room}/state/{type}/{key}", state_get)
    add("PUT", C + "/rooms/{room}/send/{type}/{txn}", send)
    add("GET", C + "/rooms/{room}/messages", messages)
    add("GET", C + "/rooms/{room}/joined_members", joined_members)
    R = "/_matrix/client/v1/rooms/{room}/relations/{event}"
    add("GET", R, relations)
    add("GET", R + "/{rel_type}", relations)
    add("GET", R + "/{rel_type}/{event_type}", relations)
    add("POST", "/_matrix/media/v3/upload", upload)
    add("POST", "/_matrix/media/r0/upload", upload)
    add("GET", "/_matrix/client/v1/media/download/{server}/{media}", lambda r: download(r, True))
    add("GET", "/_matrix/media/v3/download/{server}/{media}", lambda r: download(r, False))
    add("GET", "/_test/stats", t_stats, False)
    add("POST", "/_test/config", t_config, False)
    add("GET", "/_test/rooms", t_rooms, False)

    async def not_found(request):
        return err(404, "M_UNRECOGNIZED", "Unrecognized request")

    app = web.Application(client_max_size=1024 ** 3)
    app.add_routes(routes)
    app.router.add_route("*", "/{tail:.*}", not_found)
    return app


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--registration", required=True)
    p.add_argument("--server-name", required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--latency-ms", type=float, default=0)
    p.add_argument("--storm-every", type=int, default=0)
    p.add_argument("--storm-length", type=int, default=0)
    p.add_argument("--retry-after-ms", type=int, default=50)
    p.add_argument("--max-upload", type=int, default=50 * 1024 * 1024)
    p.add_argument("--tls-cert", help="serve HTTPS with this certificate (PEM) ...")
    p.add_argument("--tls-key", help="... and this key")
    args = p.parse_args()
    if args.host not in ("127.0.0.1", "::1", "localhost"):
        sys.exit("test homeserver listens on loopback only")
    hs = Homeserver(args)
    app = build_app(hs)

    async def run():
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        ssl_ctx = None
        if args.tls_cert:
            import ssl
            ssl_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ssl_ctx.load_cert_chain(args.tls_cert, args.tls_key)
        site = web.TCPSite(runner, args.host, args.port, ssl_context=ssl_ctx)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        if args.port_file:
            tmp = args.port_file + ".tmp"
            with open(tmp, "w") as f:
                f.write(str(port))
            os.replace(tmp, args.port_file)
        print("matrix test homeserver on %s://%s:%d" % ("https" if ssl_ctx else "http", args.host, port), flush=True)
        while True:
            await asyncio.sleep(3600)

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
