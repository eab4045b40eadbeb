"""End-to-end test of `ferry export html` in headless Chromium, from file:// with no server.

DCE input (make_input.py) → ferry import dce → ferry export html → Chromium (CDP) checks:
pages render, a reply link lands on its target three pages back and across channels, search finds a word
that only another channel has, an image attachment loads from the archive folder, hostile content is shown
and never executed, and no request leaves the archive folder (every network event is checked, and a
loopback canary server that all hostile/remote URLs point at must see no hit). Also: a second export is
byte-identical, and unknown ids / unwritable folders give clear errors.
A screenshot is kept at <build dir>/export_html_screenshot.png.
"""
import argparse
import hashlib
import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cdp  # noqa: E402

FAILS = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILS.append(what)


class Canary(http.server.BaseHTTPRequestHandler):
    hits = []

    def do_GET(self):
        Canary.hits.append(self.path)
        self.send_response(404)
        self.end_headers()

    def log_message(self, *a):
        pass


def run(cmd, expect=0):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if expect is not None and r.returncode != expect:
        print("command failed:", " ".join(cmd), "\nstdout:", r.stdout, "\nstderr:", r.stderr)
        raise SystemExit(1)
    return r


def tree_digest(root):
    h = hashlib.sha256()
    for dirpath, dirnames, files in sorted(os.walk(root)):
        dirnames.sort()
        for f in sorted(files):
            p = os.path.join(dirpath, f)
            h.update(os.path.relpath(p, root).encode() + b"\0")
            with open(p, "rb") as fh:
                h.update(fh.read())
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ferry", required=True)
    ap.add_argument("--artifacts", required=True)
    ap.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    a = ap.parse_args()
    started = time.time()
    tmp = tempfile.mkdtemp(prefix="ferry-html-")
    canary = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Canary)
    threading.Thread(target=canary.serve_forever, daemon=True).start()
    canary_url = f"http://127.0.0.1:{canary.server_address[1]}"
    browser = None
    try:
        inp = os.path.join(tmp, "dce")
        ids = json.loads(run([sys.executable, os.path.join(os.path.dirname(__file__), "make_input.py"), inp,
                              canary_url]).stdout)
        store = os.path.join(tmp, "community.db")
        run([a.ferry, "import", "dce", inp, "--store", store, "--json"])
        archive = os.path.join(tmp, "archive")
        r = run([a.ferry, "export", "html", "--store", store, "--out", archive, "--json"])
        summary = json.loads(r.stdout.strip().splitlines()[-1])
        check(summary.get("ok") is True and summary.get("messages", 0) >= ids["messages_general"] + 3,
              f"export html --json summary counts every message ({summary.get('messages')})")
        check(summary.get("files_copied", 0) >= 1, "the image attachment was copied from the blob store")

        # Deterministic: a second export of the same store is byte-identical.
        archive2 = os.path.join(tmp, "archive2")
        run([a.ferry, "export", "html", "--store", store, "--out", archive2, "--json"])
        check(tree_digest(archive) == tree_digest(archive2), "two exports of the same store are byte-identical")

        # Clear errors.
        r = run([a.ferry, "export", "html", "--store", store, "--out", os.path.join(tmp, "x"), "--channel",
                 "123456789012345678"], expect=None)
        check(r.returncode == 2 and "unknown channel id 123456789012345678" in r.stderr,
              "unknown --channel id: exit 2 and a message naming the id")
        r = run([a.ferry, "export", "html", "--store", store, "--out", os.path.join(tmp, "y"), "--guild", "42"],
                expect=None)
        check(r.returncode == 2 and "unknown guild id 42" in r.stderr, "unknown --guild id: exit 2, names the id")
        ro = os.path.join(tmp, "readonly")
        os.makedirs(ro)
        os.chmod(ro, 0o500)
        if os.geteuid() == 0:  # root ignores permissions: use a path under a regular file instead
            ro_target = os.path.join(store, "sub")
        else:
            ro_target = os.path.join(ro, "out")
        r = run([a.ferry, "export", "html", "--store", store, "--out", ro_target, "--json"], expect=None)
        check(r.returncode != 0 and "output folder" in r.stderr and '"ok":false' in r.stdout,
              "unwritable output folder: clear error and a JSON failure summary")

        # Nothing in the archive points at a remote host for loading.
        remote_refs = []
        for dirpath, _, files in os.walk(archive):
            for f in files:
                if f.endswith(".html"):
                    text = open(os.path.join(dirpath, f), encoding="utf-8").read()
                    for attr in ('src="http', "src='http", 'href="//', 'srcset='):
                        if attr in text:
                            remote_refs.append((f, attr))
        check(not remote_refs, f"no page loads anything from a remote URL {remote_refs[:3]}")

        # ---- Chromium ----
        profile = os.path.join(tmp, "profile")
        browser = subprocess.Popen(
            [a.chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", "--no-default-browser-check",
             "--disable-extensions", "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1",
             "--user-data-dir=" + profile, "--window-size=1200,900", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        port_file = os.path.join(profile, "DevToolsActivePort")
        deadline = time.time() + 30
        while not (os.path.exists(port_file) and open(port_file).read().strip()):
            if time.time() > deadline or browser.poll() is not None:
                raise SystemExit("chromium did not start (no DevToolsActivePort)")
            time.sleep(0.1)
        port = int(open(port_file).read().split()[0])
        pages = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10).read())
        page = [p for p in pages if p.get("type") == "page"][0]
        c = cdp.Cdp(page["webSocketDebuggerUrl"])
        c.call("Page.enable")
        c.call("Network.enable")
        c.call("Runtime.enable")
        base = "file://" + archive + "/"

        c.navigate(base + "index.html")
        n_links = c.evaluate("document.querySelectorAll('a[href^=\"channel-\"]').length")
        check(n_links >= 3, f"index.html lists the channels and the thread ({n_links} links)")
        check(c.evaluate("document.title") == "Archive", "index.html renders")

        # The reply (last page) links to its target on page 1.
        gen, target = ids["general"], ids["target"]
        last_page = (ids["messages_general"] + 199) // 200
        c.navigate(f"{base}channel-{gen}-p{last_page}.html")
        check(c.evaluate(f"!!document.getElementById('m{ids['reply']}')"), f"page {last_page} renders the reply")
        href = c.evaluate(f"document.querySelector('#m{ids['reply']} .reply a').getAttribute('href')")
        check(href == f"channel-{gen}-p1.html#m{target}", f"reply link points at page 1 ({href})")
        mark = len(c.events)
        c.evaluate(f"document.querySelector('#m{ids['reply']} .reply a').click()")
        c.wait_event("Page.loadEventFired", 20, since=mark)
        c.pump(0.3)
        landed = c.evaluate(
            f"(function(){{var e=document.getElementById('m{target}'); if(!e) return null;"
            f"var r=e.getBoundingClientRect(); return [location.hash, r.top >= 0 && r.top < innerHeight,"
            f" getComputedStyle(e).backgroundColor];}})()")
        check(landed is not None and landed[0] == f"#m{target}" and landed[1],
              f"clicking the reply lands on its target, in view ({landed})")
        check(c.evaluate("(document.querySelector('time.ts')||{}).title||''") != "",
              "timestamps were rewritten to the reader's time zone by archive.js")

        # Cross-channel reply.
        c.navigate(f"{base}channel-{ids['random']}-p1.html")
        href = c.evaluate(f"document.querySelector('#m{ids['cross_reply']} .reply a').getAttribute('href')")
        check(href == f"channel-{gen}-p1.html#m{target}", f"cross-channel reply links to the other channel ({href})")

        # Search from another channel's page.
        c.navigate(f"{base}channel-{gen}-p1.html")
        mark = len(c.events)
        c.evaluate("(function(){var i=document.querySelector('.search input'); i.value='Zanzibarian';"
                   " i.form.submit();})()")
        c.wait_event("Page.loadEventFired", 20, since=mark)
        hit = c.wait_for("(function(){var a=document.querySelector('#search-results a.hit');"
                         " return a ? a.getAttribute('href') : null;})()")
        check(hit == f"channel-{ids['random']}-p1.html#m{ids['search_hit']}",
              f"search from #general finds the word only #random has ({hit})")
        ms = c.evaluate("document.body.getAttribute('data-search-ms')")
        print(f"     search latency in Chromium: {ms} ms")
        mark = len(c.events)
        c.evaluate("document.querySelector('#search-results a.hit').click()")
        c.wait_event("Page.loadEventFired", 20, since=mark)
        check(c.evaluate(f"location.hash === '#m{ids['search_hit']}' && !!document.getElementById('m{ids['search_hit']}')"),
              "the search result opens the message")
        c.navigate(base + "search.html?q=nosuchwordanywhere")
        status = c.wait_for("(function(){var s=document.getElementById('search-status').textContent;"
                            " return /match/.test(s) ? s : null;})()")
        check("No messages match" in status, f"a search without hits says so ({status})")

        # Image attachment from the local file; hostile content inert.
        c.navigate(f"{base}channel-{gen}-p1.html#m{ids['image']}")
        c.pump(0.5)
        img = c.wait_for(f"(function(){{var i=document.querySelector('#m{ids['image']} .attachments img');"
                         f" return i && i.complete && i.naturalWidth > 0 ? [i.src, i.naturalWidth] : null;}})()")
        check(img[0].startswith(base + "files/") and img[1] == 24, f"the image attachment loads from the archive ({img})")
        check(c.evaluate("window.__pwned === undefined"), "hostile content did not execute")
        text = c.evaluate(f"document.getElementById('m{ids['hostile']}').textContent")
        # (`__` is Discord's underline, so "__pwned" shows underlined: compare the parts outside it)
        check("<script>window." in text and "</script>" in text and "<img src=x onerror=" in text,
              f"hostile content is shown as text ({text[:160]!r})")
        check(c.evaluate(f"document.querySelectorAll('#m{ids['hostile']} script, #m{ids['hostile']} iframe,"
                         f" #m{ids['hostile']} svg, #m{ids['hostile']} [onerror]').length") == 0,
              "hostile content created no script/iframe/svg/handler elements")
        check(c.evaluate(f"Array.from(document.querySelectorAll('#m{ids['hostile']} a')).every("
                         f"function(a){{return /^(https?:|#|channel-|files\\/)/.test(a.getAttribute('href'));}})"),
              "no javascript: links")
        c.evaluate(f"document.querySelector('#m{ids['hostile']} .spoiler').click()")
        check(c.evaluate(f"document.querySelector('#m{ids['hostile']} .spoiler').classList.contains('revealed')"),
              "spoilers reveal on click")

        c.call("Emulation.setDeviceMetricsOverride", width=1200, height=900, deviceScaleFactor=1, mobile=False)
        c.navigate(base + "index.html")  # a fresh load: same-page fragment changes fire no load event
        c.navigate(f"{base}channel-{gen}-p1.html#m{ids['hostile']}")
        c.pump(0.5)
        shot = c.call("Page.captureScreenshot", format="png")
        os.makedirs(a.artifacts, exist_ok=True)
        shot_path = os.path.join(a.artifacts, "export_html_screenshot.png")
        with open(shot_path, "wb") as f:
            import base64
            f.write(base64.b64decode(shot["data"]))
        print("screenshot:", shot_path)
        check(os.path.getsize(shot_path) > 5000, "screenshot taken")

        c.pump(0.5)
        urls = sorted({e["params"]["request"]["url"] for e in c.events if e["method"] == "Network.requestWillBeSent"})
        outside = [u for u in urls if not (u.startswith(base) or u.startswith("data:") or u.startswith("about:"))]
        check(len(urls) > 5 and not outside, f"no request leaves the archive folder ({len(urls)} requests; outside: {outside[:5]})")
        check(not Canary.hits, f"the canary server saw no request ({Canary.hits[:5]})")
        c.close()
    finally:
        if browser:
            try:
                os.killpg(browser.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            browser.wait()
        canary.shutdown()
        for root, dirs, _ in os.walk(tmp):
            for d in dirs:
                try:
                    os.chmod(os.path.join(root, d), 0o700)
                except OSError:
                    pass
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{time.time() - started:.1f} s")
    if FAILS:
        print(f"{len(FAILS)} check(s) failed")
        sys.exit(1)


if __name__ == "__main__":
    main()
