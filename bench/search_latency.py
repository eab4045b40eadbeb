"""Search latency of an exported HTML archive in headless Chromium (file://, cold and warm).

Usage: search_latency.py ARCHIVE_DIR [WORD ...]   Prints one line per query with the time the page's own
search reports (index shards loaded + postings intersected), as the archive's search page measures it.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration", "export_html"))
import cdp  # noqa: E402


def main():
    archive = os.path.abspath(sys.argv[1])
    words = sys.argv[2:] or ["ferry", "release bug", "snowflake gateway shard", "zzzznotthere"]
    profile = tempfile.mkdtemp(prefix="ferry-bench-chromium-")
    b = subprocess.Popen([shutil.which("chromium"), "--headless", "--no-sandbox", "--disable-gpu",
                          "--disable-background-networking", "--disable-component-update", "--disable-sync",
                          "--no-first-run", "--remote-debugging-port=0", "--user-data-dir=" + profile, "about:blank"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        pf = os.path.join(profile, "DevToolsActivePort")
        while not (os.path.exists(pf) and open(pf).read().strip()):
            time.sleep(0.1)
        port = int(open(pf).read().split()[0])
        page = [p for p in json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list").read())
                if p["type"] == "page"][0]
        c = cdp.Cdp(page["webSocketDebuggerUrl"])
        c.call("Page.enable")
        for w in words:
            for run in ("cold", "warm"):
                c.navigate("file://" + archive + "/search.html?q=" + urllib.request.quote(w), 60)
                ms = c.wait_for("document.body.getAttribute('data-search-ms')", 60)
                status = c.evaluate("document.getElementById('search-status').textContent")
                print(f"search {w!r} ({run}): {ms} ms — {status}")
        c.close()
    finally:
        os.killpg(b.pid, signal.SIGKILL)
        b.wait()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    main()
