#!/usr/bin/python3
"""Synthetic DiscordChatExporter JSON exports of any size, streamed to disk (memory stays flat).

    bench/gen_dce.py --messages 2000000 --channels 4 --out /tmp/dce [--seed 1] [--users 2000]

Writes one DCE 2.47-shaped document per channel ("Bench Guild - Text Channels - chan-N [id].json") in DCE's
key order and 2-space indentation: authors with roles and colours, replies with references, reactions with
user lists, attachments (remote URLs), embeds, edits, mentions, pins, system messages, unicode and
multi-line content of varied length. Ids are valid snowflakes whose time matches the timestamp. The same
seed gives byte-identical output. Prints one JSON line with files, messages and bytes.
"""
import argparse
import json
import os
import random
import sys

EPOCH = 1420070400000
GUILD_ID = 1100000000000000001
WORDS = ("the ferry leaves at dawn and nobody knows why ship deploy merge review crate tokio async bot "
         "server channel thread reaction emoji hello thanks lol yes no maybe tomorrow tonight release "
         "bug fix patch docs import export store snowflake gateway shard rate limit").split()
UNICODE = ["日本語", "Ünïcödé", "emoji 🎉", "👍", "⛴️", "שלום", "Привет", "🏳️‍🌈", "naïve café", "∑ ≠ ∞", "🐈‍⬛"]
EMOJI = [("", "👍", "thumbsup"), ("", "❤️", "heart"), ("", "😂", "joy"), ("", "🎉", "tada"),
         ("1080795385037062151", "party_blob", "party_blob"), ("1080795385037062152", "ferry", "ferry")]


def iso(ms):
    s, frac = divmod(ms, 1000)
    import time
    t = time.gmtime(s)
    base = "%04d-%02d-%02dT%02d:%02d:%02d" % t[:6]
    if frac:
        base += "." + ("%03d" % frac).rstrip("0")
    return base + "+00:00"


def snowflake(ms, inc):
    return ((ms - EPOCH) << 22) | (1 << 17) | (inc & 0xFFF)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--messages", type=int, required=True)
    ap.add_argument("--channels", type=int, default=1)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--users", type=int, default=500)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    os.makedirs(a.out, exist_ok=True)
    dumps = json.dumps

    roles = []
    for i in range(8):
        rid = snowflake(1600000000000 + i * 1000, i)
        roles.append('{"id": "%d", "name": %s, "color": %s, "position": %d}' % (
            rid, dumps("role-%d" % i), '"#%06X"' % rnd.randrange(1 << 24) if i % 3 else "null", 8 - i))
    users = []  # (id, json with roles, json without roles, display name)
    for i in range(a.users):
        uid = snowflake(1450000000000 + i * 7919000, i)
        name = "user%d" % i
        nick = rnd.choice([name, "User %d" % i, "%s %s" % (rnd.choice(UNICODE), i)])
        bot = i % 97 == 0
        my_roles = rnd.sample(roles, rnd.randrange(3))
        color = '"#%06X"' % rnd.randrange(1 << 24) if my_roles else "null"
        avatar = "https://cdn.discordapp.com/avatars/%d/%032x.png?size=512" % (uid, rnd.getrandbits(128))
        base = ('"id": "%d", "name": %s, "discriminator": "%s", "nickname": %s, "color": %s, "isBot": %s'
                % (uid, dumps(name), "0000" if i % 5 else "%04d" % (i % 10000), dumps(nick, ensure_ascii=False),
                   color, "true" if bot else "false"))
        with_roles = "{%s, \"roles\": [%s], \"avatarUrl\": \"%s\"}" % (base, ", ".join(my_roles), avatar)
        without = "{%s, \"avatarUrl\": \"%s\"}" % (base, avatar)
        users.append((uid, with_roles, without, nick))

    per_channel = [a.messages // a.channels + (1 if c < a.messages % a.channels else 0) for c in range(a.channels)]
    total_bytes = 0
    files = []
    t_start = 1672531200000  # 2023-01-01
    for c in range(a.channels):
        cid = snowflake(1500000000000 + c * 60000, c)
        path = os.path.join(a.out, "Bench Guild - Text Channels - chan-%d [%d].json" % (c, cid))
        files.append(path)
        n = per_channel[c]
        with open(path, "w", encoding="utf-8", newline="\n", buffering=1 << 20) as f:
            w = f.write
            w('{\n  "guild": {\n    "id": "%d",\n    "name": "Bench Guild",\n    "iconUrl": '
              '"https://cdn.discordapp.com/icons/%d/0123456789abcdef.png?size=512"\n  },\n' % (GUILD_ID, GUILD_ID))
            w('  "channel": {\n    "id": "%d",\n    "type": "GuildTextChat",\n    "categoryId": "%d",\n'
              '    "category": "Text Channels",\n    "name": "chan-%d",\n    "topic": null\n  },\n'
              % (cid, GUILD_ID + 1, c))
            w('  "dateRange": {\n    "after": null,\n    "before": null\n  },\n'
              '  "exportedAt": "2025-01-01T00:00:00.1234567+00:00",\n  "messages": [\n')
            ms = t_start + c * 1000
            recent = []
            for i in range(n):
                ms += rnd.randrange(1, 90000)
                mid = snowflake(ms, i)
                uid, with_roles, _, _ = users[min(int(rnd.paretovariate(1.2)) - 1, len(users) - 1)
                                              if rnd.random() < 0.7 else rnd.randrange(len(users))]
                r = rnd.random()
                words = rnd.randrange(1, 12) if r < 0.6 else rnd.randrange(12, 120)
                content = " ".join(rnd.choice(WORDS) for _ in range(words))
                if rnd.random() < 0.15:
                    content += " " + rnd.choice(UNICODE)
                if rnd.random() < 0.05:
                    content = "```py\nprint(\"{}\")\n```\n" + content
                kind = "Default"
                extra = ""
                mentions = ""
                if recent and rnd.random() < 0.2:
                    kind = "Reply"
                    extra += (',\n      "reference": {\n        "type": "Default",\n        "messageId": "%d",\n'
                              '        "channelId": "%d",\n        "guildId": "%d"\n      }'
                              % (rnd.choice(recent), cid, GUILD_ID))
                if rnd.random() < 0.1:
                    target = users[rnd.randrange(len(users))]
                    content = "@%s %s" % (target[3], content)
                    mentions = target[1]
                if rnd.random() < 0.005:
                    kind = "GuildMemberJoin"
                    content = "Joined the server."
                edited = "null"
                if rnd.random() < 0.08:
                    edited = '"%s"' % iso(ms + rnd.randrange(1000, 3600000))
                atts = ""
                if rnd.random() < 0.06:
                    aid = snowflake(ms, i + 1)
                    fn = rnd.choice(["image.png", "screenshot 2024.png", "log.txt", "video.mp4", "données.csv"])
                    atts = ('\n        {\n          "id": "%d",\n          "url": "https://cdn.discordapp.com/attachments/%d/%d/%s",\n'
                            '          "fileName": %s,\n          "fileSizeBytes": %d\n        }\n      '
                            % (aid, cid, aid, fn.replace(" ", "_"), dumps(fn, ensure_ascii=False), rnd.randrange(100, 5000000)))
                embeds = ""
                if rnd.random() < 0.04:
                    embeds = ('\n        {\n          "title": "Link preview %d",\n          "url": "https://example.com/p/%d",\n'
                              '          "timestamp": null,\n          "description": %s,\n          "color": "#1DA1F2",\n'
                              '          "thumbnail": {\n            "url": "https://images-ext-1.discordapp.net/external/x/%d.jpg",\n'
                              '            "canonicalUrl": "https://example.com/t/%d.jpg",\n            "width": 400,\n            "height": 300\n          },\n'
                              '          "images": [],\n          "fields": [],\n          "inlineEmojis": []\n        }\n      '
                              % (i, i, dumps(content[:80], ensure_ascii=False), i, i))
                reacts = ""
                if rnd.random() < 0.12:
                    parts = []
                    for e in rnd.sample(EMOJI, rnd.randrange(1, 3)):
                        who = rnd.sample(users, rnd.randrange(1, 5))
                        url = ("https://cdn.discordapp.com/emojis/%s.png" % e[0]) if e[0] else \
                            "https://cdn.jsdelivr.net/gh/twitter/twemoji@latest/assets/svg/1f44d.svg"
                        parts.append('\n        {\n          "emoji": {\n            "id": "%s",\n            "name": "%s",\n'
                                     '            "code": "%s",\n            "isAnimated": false,\n            "imageUrl": "%s"\n          },\n'
                                     '          "count": %d,\n          "users": [%s]\n        }'
                                     % (e[0], e[1], e[2], url, len(who), ", ".join(x[2] for x in who)))
                    reacts = ",".join(parts) + "\n      "
                w('    {\n      "id": "%d",\n      "type": "%s",\n      "timestamp": "%s",\n      "timestampEdited": %s,\n'
                  '      "callEndedTimestamp": null,\n      "isPinned": %s,\n      "content": %s,\n      "author": %s,\n'
                  '      "attachments": [%s],\n      "embeds": [%s],\n      "stickers": [],\n      "reactions": [%s],\n'
                  '      "mentions": [%s]%s,\n      "inlineEmojis": []\n    }%s\n'
                  % (mid, kind, iso(ms), edited, "true" if rnd.random() < 0.002 else "false",
                     dumps(content, ensure_ascii=False), with_roles, atts, embeds, reacts, mentions, extra,
                     "," if i + 1 < n else ""))
                recent.append(mid)
                if len(recent) > 50:
                    recent.pop(0)
            w('  ],\n  "messageCount": %d\n}' % n)
        total_bytes += os.path.getsize(path)
    print(json.dumps({"files": files, "messages": a.messages, "bytes": total_bytes}))


if __name__ == "__main__":
    sys.exit(main())
