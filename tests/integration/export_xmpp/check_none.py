#!/usr/bin/python3
"""Checks an export made with --password-mode none, loaded with load.sh, on the throwaway Prosody: an
account whose password the admin has not set cannot log in (with any password, including an empty one),
and once the admin sets one (prosodyctl passwd) the account logs in and has its vCard and the room history.
Usage: check_none.py HOST PORT  (alice@chat.test's password was set to "admin-set-pw", bob's was not)"""
import asyncio
import sys
import xml.etree.ElementTree as ET

import slixmpp
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

HOST, PORT = sys.argv[1], int(sys.argv[2])
NS_MAM = "urn:xmpp:mam:2"
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


class Client(slixmpp.ClientXMPP):
    def __init__(self, jid, password):
        super().__init__(jid, password)
        self.outcome = asyncio.get_event_loop().create_future()
        self.mam_rows = []
        self.nickname = None
        self.register_handler(Callback("mam", MatchXPath("{jabber:client}message/{%s}result" % NS_MAM),
                                       lambda m: self.mam_rows.append(m)))
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("failed_auth", lambda *_: self.finish("auth failed"))
        self.add_event_handler("disconnected", lambda *_: self.finish("disconnected"))

    def finish(self, outcome):
        if not self.outcome.done():
            self.outcome.set_result(outcome)

    async def start(self, _):
        try:
            iq = self.make_iq(ito=self.boundjid.bare, itype="get")
            iq.xml.append(ET.fromstring("<vCard xmlns='vcard-temp'/>"))
            vc = await iq.send(timeout=15)
            nick = vc.xml.find(".//{vcard-temp}NICKNAME")
            self.nickname = nick.text if nick is not None else None
            iq = self.make_iq(ito="general@rooms.chat.test", itype="set")
            iq.xml.append(ET.fromstring("<query xmlns='%s' queryid='q'><set xmlns='http://jabber.org/protocol/rsm'>"
                                        "<max>200</max></set></query>" % NS_MAM))
            await iq.send(timeout=15)
            await asyncio.sleep(0.3)
        except Exception as e:  # reported as a failed check by the caller
            self.finish(f"exception: {e!r}")
        self.finish("session")


async def attempt(jid, password):
    c = Client(jid, password)
    c.connect((HOST, PORT), force_starttls=False, disable_starttls=True)
    try:
        outcome = await asyncio.wait_for(c.outcome, 20)
    except asyncio.TimeoutError:
        outcome = "timeout"
    c.disconnect()
    await asyncio.sleep(0.2)
    return outcome, c


async def main():
    for pw in ("", "x", "admin-set-pw"):
        outcome, _ = await attempt("bob@chat.test", pw)
        check(outcome != "session", f"bob (no password set) cannot log in with {pw!r}: {outcome}")
    outcome, c = await attempt("alice@chat.test", "admin-set-pw")
    check(outcome == "session", f"alice logs in with the password the admin set: {outcome}")
    check(c.nickname == "alice", f"alice's imported vCard is there: NICKNAME {c.nickname!r}")
    check(len(c.mam_rows) >= 12, f"room history is there ({len(c.mam_rows)} rows)")


asyncio.get_event_loop().run_until_complete(main())
print(f"{len(failures)} failed")
sys.exit(1 if failures else 0)
