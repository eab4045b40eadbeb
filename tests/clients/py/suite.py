#!/usr/bin/python3
"""discord.py 2.2.2 (Debian's python3-discord), unmodified, driving `ferry serve` the way a bot author would.

    suite.py CONFIG.json        (written by tests/clients/harness.py)

Bot A (administrator) acts, bot B (plain member) must see every event, bot C (no permissions) gets the denial.
Only the two documented knobs are touched: Route.BASE (REST, through the OpenAPI proxy) and DEFAULT_GATEWAY.
Prints one PASS/FAIL line per scenario and exits non-zero if any failed.
"""
import asyncio
import datetime
import hashlib
import json
import sys
import time
import traceback

import aiohttp
import discord
import discord.gateway
import discord.http
import yarl

EVENT_TIMEOUT = 10

cfg = json.load(open(sys.argv[1], encoding="utf-8"))
discord.http.Route.BASE = cfg["api_v10"]
discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(cfg["gateway"])
discord.asset.Asset.BASE = cfg["cdn"]

# --- instrumentation (observes the library; changes nothing it does) ---
frames = {}          # id(client state) -> {"binary": n, "text": n}
resume_gates = {}    # id(client) -> asyncio.Event: a resume waits for it, so events pile up on the server meanwhile
connect_urls = []

_orig_received = discord.gateway.DiscordWebSocket.received_message


async def _counting_received(self, msg, /):
    f = frames.setdefault(id(self._connection), {"binary": 0, "text": 0})
    f["binary" if isinstance(msg, bytes) else "text"] += 1
    return await _orig_received(self, msg)


discord.gateway.DiscordWebSocket.received_message = _counting_received
_orig_from_client = discord.gateway.DiscordWebSocket.from_client.__func__


async def _gated_from_client(cls, client, **kw):
    gate = resume_gates.get(id(client))
    if gate is not None and kw.get("resume"):
        await gate.wait()
    return await _orig_from_client(cls, client, **kw)


discord.gateway.DiscordWebSocket.from_client = classmethod(_gated_from_client)
_orig_ws_connect = discord.http.HTTPClient.ws_connect


async def _recording_ws_connect(self, url, **kw):
    connect_urls.append(url)
    return await _orig_ws_connect(self, url, **kw)


discord.http.HTTPClient.ws_connect = _recording_ws_connect

results = []


def report(name, ok, detail=""):
    results.append((name, ok))
    print(f"{'PASS' if ok else 'FAIL'} py:{name}{': ' + detail if detail else ''}", flush=True)


class Check(Exception):
    pass


def expect(cond, msg):
    if not cond:
        raise Check(msg)


async def scenario(name, fn, timeout=30):
    t = time.monotonic()
    try:
        await asyncio.wait_for(fn(), timeout)
    except Check as e:
        report(name, False, str(e))
        return False
    except asyncio.TimeoutError:
        report(name, False, f"timed out after {timeout}s (an awaited event or response never came)")
        return False
    except Exception as e:  # a library exception is a server behaviour the library could not live with
        tb = traceback.format_exception(type(e), e, e.__traceback__)
        report(name, False, f"{type(e).__name__}: {e}\n    " + "    ".join(tb[-4:]))
        return False
    report(name, True, f"{time.monotonic() - t:.2f}s")
    return True


def ts(s):
    return None if s is None else datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))


def make_client(debug_events=False):
    intents = discord.Intents.default()
    intents.message_content = True
    return discord.Client(intents=intents, guild_ready_timeout=0.5, enable_debug_events=debug_events)


A = make_client()
B = make_client(debug_events=True)
C = make_client()
sent_ops = []  # B's gateway sends, in order: (monotonic time, op)


@B.event
async def on_socket_raw_send(payload):
    try:
        sent_ops.append((time.monotonic(), json.loads(payload)["op"]))
    except (ValueError, KeyError, TypeError):
        sent_ops.append((time.monotonic(), None))


tasks = []
state = {}
G = int(cfg["guild"]["id"])
HIST = int(cfg["history_channel"])
WRITE = int(cfg["write_channel"])
DENY = int(cfg["deny_channel"])
EXPECTED = cfg["messages"]


async def start(client, token):
    await client.login(token)
    tasks.append(asyncio.create_task(client.connect(reconnect=True)))
    await asyncio.wait_for(client.wait_until_ready(), 20)


async def s_bad_token():
    bad = make_client()
    try:
        await bad.login("not-a-token")
        raise Check("login with a made-up token succeeded")
    except discord.LoginFailure:
        pass
    finally:
        await bad.close()


async def s_login():
    await start(A, cfg["tokens"]["A"])
    await start(B, cfg["tokens"]["B"])
    expect(A.user is not None and A.user.bot, f"A.user should be a bot user, is {A.user!r}")
    if cfg["bot_ids"].get("A"):
        expect(str(A.user.id) == cfg["bot_ids"]["A"], f"A.user.id {A.user.id} != store's {cfg['bot_ids']['A']}")
    expect(A.application_id is not None, "application_id not set from /oauth2/applications/@me")
    expect(A.user.id != B.user.id, "A and B are the same user")


async def s_ready_guild():
    g = B.get_guild(G)
    expect(g is not None, f"guild {G} not in READY/GUILD_CREATE; guilds: {[x.id for x in B.guilds]}")
    expect(not g.unavailable, "guild still unavailable after GUILD_CREATE")
    expect(g.name == cfg["guild"]["name"], f"guild name {g.name!r} != imported {cfg['guild']['name']!r}")
    expect(g.default_role is not None and g.default_role.id == G, "no @everyone role with the guild's id")
    for c in cfg["fixture_channels"]:
        if "Thread" in (c["type"] or ""):
            # Archived threads are not in GUILD_CREATE (as on Discord): ask REST.
            ch = await B.fetch_channel(int(c["id"]))
        else:
            ch = g.get_channel(int(c["id"]))
        expect(ch is not None, f"imported channel {c['id']} ({c['name']!r}) missing from GUILD_CREATE")
        expect(ch.name == c["name"], f"channel {c['id']} name {ch.name!r} != imported {c['name']!r}")
    ids = {r.id for r in g.roles}
    for r in cfg["store_roles"]:
        role = g.get_role(int(r["id"]))
        expect(role is not None, f"role {r['id']} ({r['name']!r}) of the store missing; got {sorted(ids)}")
        expect(role.name == r["name"], f"role {r['id']} name {role.name!r} != imported {r['name']!r}")
    for r in cfg["fixture_roles"]:
        expect(int(r["id"]) in ids, f"role {r['id']} ({r['name']!r}) of the fixture missing")
    expect(g.me is not None, "the bot's own member is missing from GUILD_CREATE")
    expect(any(r.managed for r in g.me.roles), f"B's managed role missing from its member roles "
           f"{[(r.name, r.managed) for r in g.me.roles]}")
    ch = g.get_channel(HIST)
    expect(isinstance(ch, discord.TextChannel), f"history channel {HIST} is {type(ch).__name__}")


async def raw_history(channel_id):
    """Every message of the channel as raw JSON, paging backwards like a bot archiving a channel would."""
    out, before = [], None
    while True:
        page = await A.http.logs_from(channel_id, 100, before=before)
        out.extend(page)
        if len(page) < 100:
            return out
        before = int(page[-1]["id"])


async def s_history():
    ch = A.get_channel(HIST)
    msgs = [m async for m in ch.history(limit=None, oldest_first=True)]
    got_ids = [str(m.id) for m in msgs]
    want_ids = [m["id"] for m in EXPECTED]
    expect(got_ids == want_ids, f"history ids differ: got {len(got_ids)} {got_ids[:5]}…, "
           f"want {len(want_ids)} {want_ids[:5]}…; missing {sorted(set(want_ids) - set(got_ids))[:5]}, "
           f"extra {sorted(set(got_ids) - set(want_ids))[:5]}")
    raw = {m["id"]: m for m in await raw_history(HIST)}
    for m, e in zip(msgs, EXPECTED):
        where = f"message {e['id']}"
        expect(str(m.author.id) == e["author_id"], f"{where}: author {m.author.id} != {e['author_id']}")
        if e["type"] in (None, "Default", "Reply"):  # system messages carry DCE's English fallback text
            expect(m.content == e["content"], f"{where}: content {m.content!r} != imported {e['content']!r}")
        r = raw[e["id"]]
        expect(ts(r["timestamp"]) == ts(e["timestamp"]),
               f"{where}: timestamp {r['timestamp']!r} != imported {e['timestamp']!r}")
        expect(m.edited_at == ts(e["edited_timestamp"]),
               f"{where}: edited_at {m.edited_at} != imported {e['edited_timestamp']!r}")
        expect(m.pinned == e["pinned"], f"{where}: pinned {m.pinned} != {e['pinned']}")
        want_ref = e["reference"]["message_id"] if e["reference"] else None
        got_ref = str(m.reference.message_id) if m.reference and m.reference.message_id else None
        expect(got_ref == want_ref, f"{where}: reply reference {got_ref} != {want_ref}")
        got_att = [(str(a.id), a.filename, a.size) for a in m.attachments]
        want_att = [(a["id"], a["filename"], a["size"]) for a in e["attachments"]]
        expect(got_att == want_att, f"{where}: attachments {got_att} != {want_att}")
        got_re = sorted((str(x.emoji.id) if getattr(x.emoji, "id", None) else str(x.emoji), x.count)
                        for x in m.reactions)
        want_re = sorted((x["emoji_id"] or x["emoji_name"], x["count"]) for x in e["reactions"])
        expect(got_re == want_re, f"{where}: reactions {got_re} != {want_re}")
    state["history"] = msgs


async def s_attachments():
    checked = 0
    async with aiohttp.ClientSession() as plain:  # no token: the CDN is public, as Discord's
        for e in cfg["attachment_messages"]:
            ch = A.get_channel(int(e["channel_id"])) or await A.fetch_channel(int(e["channel_id"]))
            m = await ch.fetch_message(int(e["id"]))
            got = [(str(a.id), a.filename, a.size) for a in m.attachments]
            want = [(a["id"], a["filename"], a["size"]) for a in e["attachments"]]
            expect(got == want, f"message {e['id']}: attachments {got} != {want}")
            for a, ea in zip(m.attachments, e["attachments"]):
                async with plain.get(a.url) as r:
                    expect(r.status == 200, f"GET {a.url} without token -> {r.status}")
                    body = await r.read()
                if ea["sha256"]:
                    expect(hashlib.sha256(body).hexdigest() == ea["sha256"],
                           f"{a.url}: {len(body)} bytes differ from the fixture's file ({ea['size']} bytes)")
                else:  # the export kept only the remote URL: the size is all there is to compare
                    expect(len(body) == ea["size"], f"{a.url}: {len(body)} bytes, fixture says {ea['size']}")
                checked += 1
    expect(checked > 0, "the fixture guild has no message with attachments")


async def s_paging():
    ids = [int(m["id"]) for m in EXPECTED]
    n = len(ids)
    expect(n >= 5, f"history channel has only {n} messages; paging needs 5")
    k = n // 2

    async def page(**kw):
        return [int(m["id"]) for m in await A.http.logs_from(HIST, kw.pop("limit"), **kw)]  # ids as ints

    got = await page(limit=2, before=ids[k])
    expect(got == [ids[k - 1], ids[k - 2]], f"before={ids[k]} limit=2: {got} != {[ids[k - 1], ids[k - 2]]}")
    got = await page(limit=2, after=ids[k])
    expect(got == [ids[k + 2], ids[k + 1]],
           f"after={ids[k]} limit=2: {got} != {[ids[k + 2], ids[k + 1]]} (Discord: the next ones, newest first)")
    got = await page(limit=3, around=ids[k])
    expect(ids[k] in got and len(got) == 3, f"around={ids[k]} limit=3: {got} must hold it and have 3")
    expect(got == sorted(got, reverse=True), f"around page not newest first: {got}")
    i = ids.index(got[-1])
    expect(got == ids[i:i + 3][::-1], f"around page {got} is not contiguous in the history")
    raw = await A.http.request(discord.http.Route("GET", "/channels/{channel_id}/messages", channel_id=HIST))
    got = [int(m["id"]) for m in raw]
    want = ids[::-1][:50]
    expect(got == want, f"no limit: got {len(got)} messages, want the newest {len(want)} newest first")
    ch = A.get_channel(HIST)
    got = [m.id async for m in ch.history(limit=2, after=discord.Object(ids[k]))]
    expect(got == [ids[k + 1], ids[k + 2]], f"history(after=…, limit=2) gave {got}")
    got = [m.id async for m in ch.history(limit=3, before=discord.Object(ids[k]))]
    expect(got == [ids[k - 1], ids[k - 2], ids[k - 3]], f"history(before=…, limit=3) gave {got}")


def b_waits(event, check, hint=""):
    """Registers B's listener now (before the action that causes the event); await the result afterwards."""
    aw = B.wait_for(event, check=check, timeout=EVENT_TIMEOUT)

    async def waiter():
        try:
            return await aw
        except asyncio.TimeoutError:
            raise Check(f"B received no on_{event} within {EVENT_TIMEOUT}s{hint}") from None
    return waiter()


async def s_send():
    ch = A.get_channel(WRITE)
    text = "py: hello ferry ünïcødé 🚢"
    w = b_waits("message", lambda m: m.content == text)
    msg = await ch.send(text, nonce="py-nonce-1")
    expect(msg.content == text, f"response content {msg.content!r}")
    expect(msg.author.id == A.user.id, f"response author {msg.author.id} != A {A.user.id}")
    expect(msg.nonce == "py-nonce-1", f"nonce not echoed: {msg.nonce!r}")
    got = await w
    expect(got.id == msg.id and got.author.id == A.user.id, f"B saw {got.id} by {got.author.id}")
    expect(got.channel.id == WRITE and got.guild and got.guild.id == G, "B's message has the wrong channel/guild")
    state["msg"] = msg


async def s_edit():
    msg = state["msg"]
    w = b_waits("message_edit", lambda before, after: after.id == msg.id)
    edited = await msg.edit(content="py: edited")
    expect(edited.content == "py: edited" and edited.edited_at is not None, "edit response not edited")
    before, after = await w
    expect(before.content != "py: edited" and after.content == "py: edited",
           f"on_message_edit before={before.content!r} after={after.content!r}")


async def s_react():
    msg = state["msg"]
    w = b_waits("reaction_add", lambda r, u: r.message.id == msg.id,
                " (discord.py needs MESSAGE_REACTION_ADD to carry `member` in a guild, or the user cached)")
    await msg.add_reaction("👍")
    reaction, user = await w
    expect(str(reaction.emoji) == "👍" and user.id == A.user.id, f"reaction_add {reaction.emoji} by {user.id}")
    fresh = await A.get_channel(WRITE).fetch_message(msg.id)
    got = [(str(r.emoji), r.count, r.me) for r in fresh.reactions]
    expect(got == [("👍", 1, True)], f"message reactions after react: {got}")
    users = [u.id async for u in fresh.reactions[0].users()]
    expect(users == [A.user.id], f"reaction users {users}")


async def s_unreact():
    msg = state["msg"]
    w = b_waits("raw_reaction_remove", lambda p: p.message_id == msg.id)
    await msg.remove_reaction("👍", A.user)
    p = await w
    expect(str(p.emoji) == "👍" and p.user_id == A.user.id, f"raw_reaction_remove {p.emoji} by {p.user_id}")
    fresh = await A.get_channel(WRITE).fetch_message(msg.id)
    expect(fresh.reactions == [], f"reactions left: {fresh.reactions}")


async def s_reply():
    msg = state["msg"]
    w = b_waits("message", lambda m: m.content == "py: a reply")
    r = await msg.reply("py: a reply")
    expect(r.reference and r.reference.message_id == msg.id, f"reply reference {r.reference}")
    got = await w
    expect(got.reference and got.reference.message_id == msg.id, f"B's reply reference {got.reference}")
    expect(got.type == discord.MessageType.reply, f"reply type {got.type}")


async def s_pin():
    msg = state["msg"]
    ch = A.get_channel(WRITE)
    w = b_waits("guild_channel_pins_update", lambda c, last: c.id == WRITE)
    await msg.pin()
    c, last = await w
    expect(last is not None, "pins update carried no last_pin_timestamp after a pin")
    pins = [m.id for m in await ch.pins()]
    expect(msg.id in pins, f"pinned message not in pins {pins}")
    fresh = await ch.fetch_message(msg.id)
    expect(fresh.pinned, "message not marked pinned")


async def s_unpin():
    msg = state["msg"]
    ch = A.get_channel(WRITE)
    w = b_waits("guild_channel_pins_update", lambda c, last: c.id == WRITE)
    await msg.unpin()
    await w
    pins = [m.id for m in await ch.pins()]
    expect(msg.id not in pins, f"unpinned message still in pins {pins}")


async def s_typing():
    ch = A.get_channel(WRITE)
    w = b_waits("typing", lambda c, u, when: c.id == WRITE and u.id == A.user.id)
    await ch.typing()
    c, u, when = await w
    expect(abs((discord.utils.utcnow() - when).total_seconds()) < 60, f"typing timestamp {when} is not now")


async def s_thread_from_message():
    ch = A.get_channel(WRITE)
    starter = await ch.send("py: thread starter")
    w = b_waits("thread_create", lambda t: t.id == starter.id)
    t = await starter.create_thread(name="py thread from message")
    expect(t.id == starter.id, f"thread id {t.id} != starter message id {starter.id} (Discord reuses it)")
    expect(t.parent_id == WRITE, f"thread parent {t.parent_id}")
    got = await w
    expect(got.name == "py thread from message" and got.parent_id == WRITE, f"B's thread {got.name!r}")
    w = b_waits("message", lambda m: m.channel.id == t.id)
    await t.send("py: inside the thread")
    got = await w
    expect(got.content == "py: inside the thread", f"thread message {got.content!r}")


async def s_thread_without_message():
    ch = A.get_channel(WRITE)
    w = b_waits("thread_create", lambda t: t.name == "py thread alone")
    t = await ch.create_thread(name="py thread alone", type=discord.ChannelType.public_thread)
    expect(t.type == discord.ChannelType.public_thread and t.parent_id == WRITE, f"thread {t.type} {t.parent_id}")
    got = await w
    expect(got.id == t.id, f"B's thread {got.id} != {t.id}")
    active = await A.get_guild(G).active_threads()
    expect(t.id in [x.id for x in active], f"new thread not in active threads {[x.id for x in active]}")


async def s_delete():
    ch = A.get_channel(WRITE)
    victim = await ch.send("py: delete me")
    w = b_waits("raw_message_delete", lambda p: p.message_id == victim.id)
    await victim.delete()
    p = await w
    expect(p.channel_id == WRITE, f"delete event channel {p.channel_id}")
    try:
        await ch.fetch_message(victim.id)
        raise Check("deleted message still fetchable")
    except discord.NotFound as e:
        expect(e.code == 10008, f"deleted message: 404 code {e.code}, want 10008 Unknown Message")


async def s_upload():
    ch = A.get_channel(WRITE)
    data = open(cfg["upload_bytes_path"], "rb").read()
    w = b_waits("message", lambda m: m.content == "py: upload" and m.attachments)
    msg = await ch.send("py: upload", file=discord.File(cfg["upload_bytes_path"], filename="ferry-py.bin"))
    expect(len(msg.attachments) == 1, f"response attachments {msg.attachments}")
    a = msg.attachments[0]
    expect(a.filename == "ferry-py.bin" and a.size == len(data), f"attachment {a.filename} {a.size}")
    got = await w
    expect([x.id for x in got.attachments] == [a.id], "B's message lacks the attachment")
    async with aiohttp.ClientSession() as plain:
        async with plain.get(a.url) as r:
            expect(r.status == 200, f"GET {a.url} -> {r.status}")
            body = await r.read()
    expect(body == data, f"downloaded {len(body)} bytes, uploaded {len(data)}: bytes differ")
    expect(await a.read() == data, "Attachment.read() differs")


async def s_permission_denied():
    g = A.get_guild(G)
    deny = g.get_channel(DENY)
    await deny.set_permissions(g.default_role, reason="ferry test: deny sending",
                               overwrite=discord.PermissionOverwrite(view_channel=True, send_messages=False))
    await C.login(cfg["tokens"]["C"])
    ch = await C.fetch_channel(DENY)
    ow = ch.overwrites_for(discord.Object(G))
    expect(ow.send_messages is False, f"overwrite not visible on the channel: {ow.pair()}")
    try:
        await ch.send("py: C should not be able to say this")
        raise Check("a bot without SEND_MESSAGES could send")
    except discord.Forbidden as e:
        expect(e.status == 403 and e.code == 50013, f"403 code {e.code} message {e.text!r}, want 50013")


async def s_rest_objects():
    human = int(EXPECTED[0]["author_id"])
    u = await A.fetch_user(human)
    expect(u.id == human and u.name == EXPECTED[0]["author_name"], f"fetch_user: {u.id} {u.name!r}")
    g = await A.fetch_guild(G)
    expect(g.name == cfg["guild"]["name"], f"fetch_guild name {g.name!r}")
    chs = await g.fetch_channels()
    expect(HIST in [c.id for c in chs] and WRITE in [c.id for c in chs], f"fetch_channels: {[c.id for c in chs]}")
    roles = await g.fetch_roles()
    expect(G in [r.id for r in roles], "fetch_roles lacks @everyone")
    me = await g.fetch_member(A.user.id)
    expect(me.id == A.user.id, f"fetch_member(self) gave {me.id}")
    author = await g.fetch_member(human)
    expect(author.id == human, f"fetch_member(author) gave {author.id}")
    mine = [x.id async for x in A.fetch_guilds(limit=200)]
    expect(G in mine, f"/users/@me/guilds lacks the guild: {mine}")
    dm = await A.create_dm(B.user)
    expect(dm.recipient is not None and dm.recipient.id == B.user.id, f"DM recipient {dm.recipient}")
    try:
        await A.fetch_channel(G + 12345)  # a well-formed snowflake no one has
        raise Check("unknown channel fetched")
    except discord.NotFound as e:
        expect(e.code == 10003, f"unknown channel: 404 code {e.code}, want 10003")


async def s_channel_modify():
    ch = A.get_channel(WRITE)
    w = b_waits("guild_channel_update", lambda before, after: after.id == WRITE)
    edited = await ch.edit(topic="py: a new topic")
    expect(edited is not None and edited.topic == "py: a new topic", f"edit response topic {edited and edited.topic!r}")
    before, after = await w
    expect(after.topic == "py: a new topic", f"B's channel topic {after.topic!r}")


async def s_reaction_clear():
    ch = A.get_channel(WRITE)
    msg = await ch.send("py: react then clear")
    await msg.add_reaction("🚢")
    w = b_waits("raw_reaction_clear", lambda p: p.message_id == msg.id)
    await msg.clear_reactions()
    await w
    fresh = await ch.fetch_message(msg.id)
    expect(fresh.reactions == [], f"reactions left after clear: {fresh.reactions}")


async def s_bulk_delete():
    ch = A.get_channel(WRITE)
    victims = [await ch.send(f"py: bulk {i}") for i in range(3)]
    ids = {m.id for m in victims}
    w = b_waits("raw_bulk_message_delete", lambda p: p.message_ids == ids)
    await ch.delete_messages(victims)
    p = await w
    expect(p.channel_id == WRITE, f"bulk delete channel {p.channel_id}")
    left = {m.id async for m in ch.history(limit=10)}
    expect(not (ids & left), f"bulk-deleted messages still listed: {ids & left}")


async def s_thread_members():
    ch = A.get_channel(WRITE)
    t = await ch.create_thread(name="py thread members", type=discord.ChannelType.public_thread)
    await t.join()
    members = await t.fetch_members()
    expect(A.user.id in [m.id for m in members], f"thread members after join: {[m.id for m in members]}")
    await t.leave()
    members = await t.fetch_members()
    expect(A.user.id not in [m.id for m in members], f"thread members after leave: {[m.id for m in members]}")


async def s_resume():
    ch = A.get_channel(WRITE)
    gate = asyncio.Event()
    resume_gates[id(B)] = gate
    try:
        cut_at = time.monotonic()
        disconnected = b_waits("disconnect", None)
        resumed = b_waits("resumed", None)
        w = b_waits("message", lambda m: m.content == "py: while you were away")
        transport = B.ws.socket._conn.transport
        transport.abort()  # no close frame: the socket is just gone, as on a network drop
        await disconnected
        await ch.send("py: while you were away")
        await asyncio.sleep(0.3)  # let the server notice the dead socket before the client comes back
        gate.set()
        got = await w
        await resumed
    finally:
        gate.set()
        resume_gates.pop(id(B), None)
    ops = [op for t, op in sent_ops if t >= cut_at]
    expect(6 in ops, f"B did not send RESUME (op 6) after the cut; sent ops {ops}")
    expect(2 not in ops, f"B re-IDENTIFYed (op 2) instead of resuming; sent ops {ops}")
    expect(got.author.id == A.user.id, "missed message has the wrong author")


async def s_zlib():
    urls = [u for u in connect_urls if "compress=zlib-stream" in u]
    expect(urls, f"discord.py did not ask for zlib-stream: {connect_urls}")
    f = frames.get(id(B._connection), {})
    expect(f.get("binary", 0) > 0, f"no zlib-stream (binary) frame received by B: {f}")
    # Text frames beside them are legal for both libraries (each parses a TEXT frame as plain JSON): not checked.


async def main():
    await scenario("bad token rejected", s_bad_token)
    if await scenario("login (users/@me, applications/@me, READY)", s_login, timeout=45):
        for name, fn in [
            ("READY/GUILD_CREATE has the imported guild, channels, roles", s_ready_guild),
            ("history: ids, authors, timestamps, content, attachments, reactions, replies", s_history),
            ("imported attachment urls download without token", s_attachments),
            ("paging before/after/around/default limit", s_paging),
            ("send -> on_message for B", s_send),
            ("edit -> on_message_edit", s_edit),
            ("react -> on_reaction_add", s_react),
            ("unreact -> on_raw_reaction_remove", s_unreact),
            ("reply -> on_message with reference", s_reply),
            ("pin -> on_guild_channel_pins_update", s_pin),
            ("unpin -> on_guild_channel_pins_update", s_unpin),
            ("typing -> on_typing", s_typing),
            ("thread from message -> on_thread_create", s_thread_from_message),
            ("thread without message -> on_thread_create", s_thread_without_message),
            ("delete -> on_raw_message_delete", s_delete),
            ("multipart upload; attachment url returns the bytes", s_upload),
            ("REST objects: user, guild, channels, roles, members, my guilds, DM, 404 10003", s_rest_objects),
            ("channel modify -> on_guild_channel_update", s_channel_modify),
            ("reaction clear -> on_raw_reaction_clear", s_reaction_clear),
            ("bulk delete -> on_raw_bulk_message_delete", s_bulk_delete),
            ("thread join/members/leave", s_thread_members),
            ("permission denial: Forbidden 50013", s_permission_denied),
            ("resume after the socket is cut (RESUME, missed event replayed)", s_resume),
            ("zlib-stream negotiated", s_zlib),
        ]:
            if "msg" not in state and fn in (s_edit, s_react, s_unreact, s_reply, s_pin, s_unpin):
                report(name, False, "skipped: the send scenario failed")
                continue
            await scenario(name, fn)
    else:
        report("remaining scenarios", False, "skipped: login failed")
    for c in (A, B, C):
        try:
            await asyncio.wait_for(c.close(), 5)
        except Exception:
            pass
    for t in tasks:
        t.cancel()
    passed = sum(1 for _, ok in results if ok)
    failed = len(results) - passed
    print(f"py: {passed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
