#!/usr/bin/python3
"""Logs in to the throwaway Prosody as an imported user with slixmpp and checks what `ferry export xmpp`
plus load.sh produced: roster, vCard, rooms (name, affiliation), room history over MAM (order, original
timestamps, nicks, occupant ids, a XEP-0461 reply, a XEP-0444 reaction) and a 1:1 DM archive with both
sides. Usage: check.py OUT_DIR HOST PORT"""
import asyncio
import csv
import sys
import xml.etree.ElementTree as ET

import slixmpp
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

OUT, HOST, PORT = sys.argv[1], sys.argv[2], int(sys.argv[3])
DOMAIN, MUC = "chat.test", "rooms.chat.test"
NS_MAM, NS_FWD, NS_DELAY = "urn:xmpp:mam:2", "urn:xmpp:forward:0", "urn:xmpp:delay"

creds = {row["jid"]: row["password"] for row in csv.DictReader(open(OUT + "/credentials.csv"))}
ALICE, BOB = "alice@" + DOMAIN, "bob@" + DOMAIN
assert ALICE in creds and BOB in creds, f"alice/bob missing from credentials.csv: {sorted(creds)}"

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


class Client(slixmpp.ClientXMPP):
    def __init__(self):
        super().__init__(ALICE, creds[ALICE])
        self.results = {}
        self.presences = []
        self.register_handler(Callback("mam", MatchXPath("{jabber:client}message/{%s}result" % NS_MAM), self.on_mam))
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("failed_auth", lambda *_: self.fail("login failed"))
        self.register_handler(Callback("pres", MatchXPath("{jabber:client}presence"), lambda p: self.presences.append(p.xml)))
        self.done = asyncio.get_event_loop().create_future()

    def fail(self, what):
        check(False, what)
        if not self.done.done():
            self.done.set_result(None)

    def on_mam(self, msg):
        r = msg.xml.find("{%s}result" % NS_MAM)
        self.results.setdefault(r.get("queryid"), []).append(r)

    async def iq(self, to, payload, typ="get"):
        iq = self.make_iq(ito=to, itype=typ)
        iq.xml.append(ET.fromstring(payload))
        return await iq.send(timeout=15)

    async def mam(self, to, qid, with_jid=None):
        form = ""
        if with_jid:
            form = ("<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>%s</value>"
                    "</field><field var='with'><value>%s</value></field></x>" % (NS_MAM, with_jid))
        await self.iq(to, "<query xmlns='%s' queryid='%s'>%s<set xmlns='http://jabber.org/protocol/rsm'>"
                      "<max>200</max></set></query>" % (NS_MAM, qid, form), "set")
        await asyncio.sleep(0.3)
        return self.results.get(qid, [])

    async def start(self, _):
        try:
            await self.checks()
        except Exception as e:  # any exception is a failed check, with its reason
            check(False, f"exception: {e!r}")
        if not self.done.done():
            self.done.set_result(None)

    async def checks(self):
        check(True, "logged in as " + ALICE + " with the generated password")
        roster = await self.iq(None, "<query xmlns='jabber:iq:roster'/>")
        items = {i.get("jid"): i for i in roster.xml.iter("{jabber:iq:roster}item")}
        check(BOB in items, f"roster has the DM partner {BOB}: {sorted(items)}")
        if BOB in items:
            check(items[BOB].get("subscription") == "both" and items[BOB].get("name"), "roster item has name and subscription both")
        vc = await self.iq(ALICE, "<vCard xmlns='vcard-temp'/>")
        fn = vc.xml.find(".//{vcard-temp}FN")
        nick = vc.xml.find(".//{vcard-temp}NICKNAME")
        check(fn is not None and fn.text, "vCard has a display name (FN)")
        check(nick is not None and nick.text == "alice", "vCard NICKNAME is the Discord username")

        general = "general@" + MUC
        info = await self.iq(general, "<query xmlns='http://jabber.org/protocol/disco#info'/>")
        ident = info.xml.find(".//{http://jabber.org/protocol/disco#info}identity")
        check(ident is not None and ident.get("name") == "#general", f"room {general} exists, named #general")
        feats = {f.get("var") for f in info.xml.iter("{http://jabber.org/protocol/disco#info}feature")}
        check("muc_persistent" in feats, "room is persistent")

        # Join and read our own affiliation from the self-presence.
        for room, allowed in ((general, {"member", "owner", "admin"}), ("weekend-plans@" + MUC, {"member", "owner"})):
            self.presences.clear()
            join = ET.fromstring("<presence xmlns='jabber:client' to='%s/alice-test'><x xmlns='http://jabber.org/protocol/muc'>"
                                 "<history maxstanzas='0'/></x></presence>" % room)
            self.send_raw(ET.tostring(join, encoding="unicode"))
            for _ in range(50):
                await asyncio.sleep(0.1)
                if any(p.get("from", "").startswith(room) for p in self.presences):
                    break
            ns = "{http://jabber.org/protocol/muc#user}"
            affs = [i.get("affiliation") for p in self.presences if p.get("from", "").startswith(room + "/")
                    and p.find(ns + "x/" + ns + "status[@code='110']") is not None
                    for i in p.iter(ns + "item")]
            if not affs:
                print("presences:", [ET.tostring(p, encoding="unicode")[:300] for p in self.presences])
            check(bool(affs) and affs[0] in allowed, f"alice joined {room} with affiliation {affs}")
        winfo = await self.iq("weekend-plans@" + MUC, "<query xmlns='http://jabber.org/protocol/disco#info'/>")
        wfeats = {f.get("var") for f in winfo.xml.iter("{http://jabber.org/protocol/disco#info}feature")}
        check("muc_membersonly" in wfeats and "muc_hidden" in wfeats, "group DM room is members-only and hidden")

        res = await self.mam(general, "g1")
        check(len(res) >= 12, f"room MAM returned the history ({len(res)} rows)")
        rows = []
        for r in res:
            fwd = r.find("{%s}forwarded" % NS_FWD)
            stamp = fwd.find("{%s}delay" % NS_DELAY).get("stamp")
            m = fwd.find("{jabber:client}message")
            rows.append((r.get("id"), stamp, m))
        ids = [int(i) for i, _, _ in rows if i.isdigit()]
        check(ids == sorted(ids) and len(ids) >= 12, "history comes back in original order")
        first = next((x for x in rows if x[0] == "1246433064247361543"), None)
        check(first is not None and first[1].startswith("2024-06-01T12:00:00"), f"first message keeps its 2024 timestamp: {first and first[1]}")
        alice_nick = first[2].get("from").split("/", 1)[1] if first is not None else None
        check(bool(alice_nick), f"first message is from a nick ({alice_nick})")
        body = first[2].find("{jabber:client}body").text if first is not None else ""
        check(body.startswith("Hello"), "first message has its text")
        occ = [m.find("{urn:xmpp:occupant-id:0}occupant-id") for i, _, m in rows if m.get("from", "").endswith("/" + str(alice_nick))]
        occ_ids = {o.get("id") for o in occ if o is not None}
        check(len(occ_ids) == 1 and all(o is not None for o in occ), f"alice's messages carry one stable occupant id: {occ_ids}")
        reply = next((m for i, _, m in rows if i == "1246433095004192775"), None)
        rel = reply.find("{urn:xmpp:reply:0}reply") if reply is not None else None
        check(rel is not None and rel.get("id") == "1246433064247361543" and rel.get("to", "").endswith("/" + str(alice_nick)),
              "reply carries a XEP-0461 reference to alice's message")
        reactions = [m.find("{urn:xmpp:reactions:0}reactions") for _, _, m in rows]
        reactions = [x for x in reactions if x is not None and x.get("id") == "1246433064247361543"]
        check(bool(reactions) and reactions[0].find("{urn:xmpp:reactions:0}reaction") is not None,
              "a XEP-0444 reaction to alice's message is in the archive")
        edits = [m for i, _, m in rows if i.endswith("-edit")]
        check(any(m.find("{urn:xmpp:message-correct:0}replace") is not None for m in edits), "edited message is marked with a XEP-0308 correction")
        oob = [m for _, _, m in rows if m.find("{jabber:x:oob}x") is not None]
        check(bool(oob), "attachments come as XEP-0066 out-of-band links")

        dm = await self.mam(None, "d1", BOB)
        texts = [(r.find(".//{jabber:client}message").get("from", "").split("/")[0],
                  r.find(".//{jabber:client}body").text) for r in dm if r.find(".//{jabber:client}body") is not None]
        check(("alice@chat.test", "hey bob") in texts and ("bob@chat.test", "hi alice!") in texts,
              f"DM archive has both sides: {texts}")
        stamps = [r.find(".//{%s}delay" % NS_DELAY).get("stamp") for r in dm]
        check(any(s.startswith("2025-09-21T20:40:00") for s in stamps), f"DM keeps its original time: {stamps}")


async def main():
    c = Client()
    c.connect((HOST, PORT), force_starttls=False, disable_starttls=True)
    try:
        await asyncio.wait_for(c.done, 45)
    except asyncio.TimeoutError:
        check(False, "timed out (login or a query never answered)")
    c.disconnect()
    await asyncio.sleep(0.2)


asyncio.get_event_loop().run_until_complete(main())
print(f"{len(failures)} failed")
sys.exit(1 if failures else 0)
