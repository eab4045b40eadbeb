#!/usr/bin/python3
"""ferry serve with --tls-cert/--tls-key: HTTPS and WSS on one port, /gateway advertising wss://, and the rules
for plain HTTP off loopback. A throwaway self-signed certificate is made with openssl; clients verify it.

Usage: test_tls.py FERRY_BINARY SOURCE_DIR
"""
import json, os, shutil, socket, ssl, subprocess, sys, tempfile, urllib.error, urllib.request

FERRY, SRC = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_serve  # noqa: E402  (its WebSocket client; importing runs nothing)

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, flush=True)
    else:
        print("ok:", what, flush=True)


def run(*args):
    return subprocess.run([FERRY, *args], capture_output=True, text=True, timeout=30)


class WSS(test_serve.WS):
    """test_serve's WebSocket client over TLS (the upgrade request is the same, inside the TLS stream)."""

    def __init__(self, port, query, tls):
        super().__init__(port, query, lambda raw: tls.wrap_socket(raw, server_hostname="127.0.0.1"))


def https(port, path, token, tls):
    req = urllib.request.Request(f"https://127.0.0.1:{port}{path}", headers={"Authorization": "Bot " + token})
    try:
        with urllib.request.urlopen(req, context=tls, timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def start(args):
    p = subprocess.Popen([FERRY, "serve", *args, "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    if not line:
        p.wait(timeout=10)
        raise RuntimeError("serve did not start: " + p.stderr.read())
    return p, json.loads(line)


def main():
    tmp = tempfile.mkdtemp(prefix="ferry-compat-tls-")
    servers = []
    try:
        cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
        r = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                            "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                           capture_output=True, text=True)
        check(r.returncode == 0, f"openssl made a self-signed certificate ({r.stderr.strip()[-200:]})")
        store = os.path.join(tmp, "community.db")
        r = run("import", "dce", os.path.join(SRC, "fixtures", "dce", "sample"), "--store", store)
        check(r.returncode == 0, "import dce sample")
        token = run("bot", "create", "--store", store, "--name", "Secure").stdout.strip()

        # Plain HTTP off loopback is refused, with the way out named; TLS off loopback is allowed.
        r = run("serve", "--store", store, "--listen", "0.0.0.0:0")
        check(r.returncode == 2 and "refusing plain HTTP on 0.0.0.0" in r.stderr and "--tls-cert" in r.stderr
              and "--insecure-listen" in r.stderr, f"plain HTTP on 0.0.0.0 refused clearly ({r.stderr.strip()})")
        r = run("serve", "--store", store, "--listen", "127.0.0.1:0", "--tls-cert", cert)
        check(r.returncode == 2 and "--tls-key" in r.stderr, "--tls-cert without --tls-key is a usage error")
        missing = os.path.join(tmp, "nope.pem")
        r = run("serve", "--store", store, "--listen", "127.0.0.1:0", "--tls-cert", missing, "--tls-key", key)
        check(r.returncode == 2 and missing in r.stderr, f"unreadable certificate named in the error ({r.stderr.strip()})")
        p, info = start(["--store", store, "--listen", "0.0.0.0:0", "--tls-cert", cert, "--tls-key", key])
        servers.append(p)
        check(info["tls"] is True and info["api"].startswith("https://"), "TLS on 0.0.0.0 starts, https API URL")
        p.terminate()
        p.wait(timeout=10)

        server, info = start(["--store", store, "--listen", "127.0.0.1:0", "--tls-cert", cert, "--tls-key", key])
        servers.append(server)
        port = int(info["listen"].rsplit(":", 1)[1])
        check(info["api"] == f"https://127.0.0.1:{port}/api" and info["gateway"] == f"wss://127.0.0.1:{port}",
              "serve prints https:// API and wss:// gateway URLs")

        tls = ssl.create_default_context(cafile=cert)  # verifies the chain and the 127.0.0.1 name
        st, hd, body = https(port, "/api/v10/users/@me", token, tls)
        check(st == 200 and hd.get("Content-Type") == "application/json" and json.loads(body)["username"] == "Secure",
              "HTTPS REST call with a verified certificate")
        st, _, body = https(port, "/api/v10/gateway/bot", token, tls)
        check(st == 200 and json.loads(body)["url"] == f"wss://127.0.0.1:{port}", "/gateway/bot advertises wss://")
        st, _, body = https(port, "/api/v10/gateway", token, tls)
        check(st == 200 and json.loads(body)["url"] == f"wss://127.0.0.1:{port}", "/gateway advertises wss://")

        # Gateway login over WSS on the same port.
        ws = WSS(port, "v=10&encoding=json", tls)
        hello = ws.recv()
        check(hello is not None and hello["op"] == 10, "WSS HELLO")
        ws.send({"op": 2, "d": {"token": token, "intents": 513, "properties": {}}})
        ready = ws.recv_until(lambda x: x.get("t") == "READY")
        check(ready is not None and ready["d"]["resume_gateway_url"] == f"wss://127.0.0.1:{port}",
              "WSS READY with a wss:// resume_gateway_url")
        gc = ws.recv()
        check(gc is not None and gc.get("t") == "GUILD_CREATE", "WSS GUILD_CREATE")
        ws.send({"op": 1, "d": gc["s"] if gc else None})
        ack = ws.recv()
        check(ack is not None and ack["op"] == 11, "WSS heartbeat ACK")
        ws.close()

        # A plain-HTTP client on the TLS port gets no HTTP answer (its bytes are not a TLS handshake).
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(f"GET /api/v10/gateway HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        try:
            answer = s.recv(4096)
        except (ConnectionResetError, socket.timeout):
            answer = b""
        s.close()
        check(not answer.startswith(b"HTTP/"), "plain HTTP on the TLS port is not served")
        # ... and the server still serves TLS clients afterwards
        st, _, _ = https(port, "/api/v10/users/@me", token, tls)
        check(st == 200, "server alive after a plain-HTTP client")
    finally:
        for p in servers:
            if p.poll() is None:
                p.terminate()
                p.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print(f"{len(failures)} check(s) failed")
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
