"""Writes a small DCE JSON export (with a real PNG attachment) that exercises the HTML archive: a channel
spanning several pages, a reply to a message three pages back, a reply across channels, a thread, role
colours, a word found only in another channel, and a message full of hostile HTML/JS.

Usage: make_input.py OUT_DIR CANARY_URL   (CANARY_URL: a loopback server that must never be contacted)
Prints a JSON object with the ids the browser test checks.
"""
import json
import os
import struct
import sys
import zlib

EPOCH = 1420070400000
BASE_MS = 1717243200000  # 2024-06-01T12:00:00Z


def sf(ms, inc=0):
    return str(((ms - EPOCH) << 22) | inc)


def ts(ms):
    s = ms // 1000
    frac = ms % 1000
    import datetime
    d = datetime.datetime.fromtimestamp(s, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    if frac:
        d += ("." + f"{frac:03d}").rstrip("0")
    return d + "+00:00"


def png(w, h, rgb):
    raw = b"".join(b"\x00" + bytes(rgb) * w for _ in range(h))
    def chunk(t, d):
        return struct.pack("!I", len(d)) + t + d + struct.pack("!I", zlib.crc32(t + d) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack("!IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def main():
    out, canary = sys.argv[1], sys.argv[2].rstrip("/")
    os.makedirs(out, exist_ok=True)
    guild = {"id": sf(BASE_MS - 10**9), "name": "Test <Guild> & Co", "iconUrl": canary + "/guild-icon.png"}
    cat_id = sf(BASE_MS - 10**9 + 1)
    gen_id, rnd_id = sf(BASE_MS - 10**9 + 2), sf(BASE_MS - 10**9 + 3)
    role_mod = {"id": sf(BASE_MS - 10**9 + 4), "name": "Moderator", "color": "#E67E22", "position": 3}
    alice = {"id": sf(BASE_MS - 10**9 + 5), "name": "alice", "discriminator": "0000", "nickname": "Alice",
             "color": "#E67E22", "isBot": False, "roles": [role_mod], "avatarUrl": canary + "/alice.png"}
    bob = {"id": sf(BASE_MS - 10**9 + 6), "name": "bob", "discriminator": "0000", "nickname": "Bob <b>",
           "color": None, "isBot": False, "roles": [], "avatarUrl": canary + "/bob.png"}

    def msg(ms, author, content, **kw):
        m = {"id": sf(ms), "type": "Default", "timestamp": ts(ms), "timestampEdited": None, "callEndedTimestamp": None,
             "isPinned": False, "content": content, "author": author, "attachments": [], "embeds": [],
             "stickers": [], "reactions": [], "mentions": [], "inlineEmojis": []}
        m.update(kw)
        return m

    files_dir = "Test _Guild_ & Co - Text - general [%s].json_Files" % gen_id
    os.makedirs(os.path.join(out, files_dir), exist_ok=True)
    with open(os.path.join(out, files_dir, "pixel-0123456789abcdef.png"), "wb") as f:
        f.write(png(24, 16, (220, 40, 40)))

    t = BASE_MS
    general = []
    target = msg(t, alice, "The **original** message everyone replies to: quokka")
    general.append(target)
    hostile_id = None
    image_id = None
    for i in range(1, 449):
        t += 60000
        if i == 5:
            content = ('<img src=x onerror="window.__pwned=1"> <script>window.__pwned=2</script> '
                       '[click me](javascript:window.__pwned=3) <iframe src="' + canary + '/iframe"></iframe> '
                       '"><svg onload=window.__pwned=4> ||spoiler <b>text</b>|| `<code>` '
                       '<img src="' + canary + '/inline.png">')
            m = msg(t, bob, content, attachments=[{"id": sf(t, 7), "url": canary + "/evil.png",
                                                   "fileName": '"><img src=x onerror=window.__pwned=5>.png',
                                                   "fileSizeBytes": 1234}],
                    embeds=[{"title": "<script>window.__pwned=6</script>", "url": "javascript:window.__pwned=7",
                             "timestamp": None, "description": "<img src=x onerror=window.__pwned=8>",
                             "color": "#FF0000",
                             "thumbnail": {"url": canary + "/thumb.png", "width": 10, "height": 10},
                             "images": [], "fields": [{"name": "<b>f</b>", "value": "<i>v</i>", "isInline": True}],
                             "inlineEmojis": []}])
            hostile_id = m["id"]
        elif i == 10:
            m = msg(t, alice, "a picture", attachments=[{"id": sf(t, 7), "url": files_dir + "/pixel-0123456789abcdef.png",
                                                         "fileName": "pixel.png", "fileSizeBytes": 0}])
            image_id = m["id"]
        elif i == 20:
            m = msg(t, alice, "edited and pinned, with a reaction", isPinned=True, timestampEdited=ts(t + 5000),
                    reactions=[{"emoji": {"id": "", "name": "👍", "code": "thumbsup", "isAnimated": False,
                                          "imageUrl": canary + "/1f44d.svg"}, "count": 2,
                                "users": [{k: v for k, v in alice.items() if k != "roles"}]}])
        else:
            m = msg(t, alice if i % 2 else bob, f"filler message number {i} with __markdown__ and ~~strike~~")
        general.append(m)
    t += 60000
    reply = msg(t, bob, "replying to the very first message", type="Reply",
                reference={"type": "Default", "messageId": target["id"], "channelId": gen_id, "guildId": guild["id"]})
    general.append(reply)
    thread_id = sf(t + 1000)
    t += 60000
    general.append(msg(t, bob, "Started a thread.", type="ThreadCreated",
                       reference={"type": "Default", "messageId": None, "channelId": thread_id, "guildId": guild["id"]}))

    def write(name, channel, messages):
        doc = {"guild": guild, "channel": channel, "dateRange": {"after": None, "before": None},
               "exportedAt": "2024-07-01T00:00:00+00:00", "messages": messages, "messageCount": len(messages)}
        with open(os.path.join(out, name), "w", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False)

    write("Test _Guild_ & Co - Text - general [%s].json" % gen_id,
          {"id": gen_id, "type": "GuildTextChat", "categoryId": cat_id, "category": "Text", "name": "general",
           "topic": "General <chat>"}, general)
    t += 60000
    random_msgs = [
        msg(t, alice, "Only this channel mentions the zanzibarian word."),
        msg(t + 1000, bob, "cross-channel reply", type="Reply",
            reference={"type": "Default", "messageId": target["id"], "channelId": gen_id, "guildId": guild["id"]}),
    ]
    write("Test _Guild_ & Co - Text - random [%s].json" % rnd_id,
          {"id": rnd_id, "type": "GuildTextChat", "categoryId": cat_id, "category": "Text", "name": "random",
           "topic": None}, random_msgs)
    t += 60000
    write("Test _Guild_ & Co - general - Plans [%s].json" % thread_id,
          {"id": thread_id, "type": "GuildPublicThread", "categoryId": gen_id, "category": "general",
           "name": "Plans", "topic": None}, [msg(t, alice, "thread message one")])
    print(json.dumps({"guild": guild["id"], "general": gen_id, "random": rnd_id, "thread": thread_id,
                      "target": target["id"], "reply": reply["id"], "cross_reply": random_msgs[1]["id"],
                      "search_word": "zanzibarian", "search_hit": random_msgs[0]["id"],
                      "hostile": hostile_id, "image": image_id, "messages_general": len(general)}))


if __name__ == "__main__":
    main()
