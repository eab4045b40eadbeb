"""A small Chrome DevTools Protocol client over a hand-written WebSocket (RFC 6455) connection.

Only what the archive test needs: send a command and wait for its result, collect events. Debian's
python3 has no WebSocket module by default, and the protocol subset CDP uses (text frames, client masking,
large frames, ping/close) is small.
"""
import base64
import json
import os
import socket
import struct
import time
import urllib.parse


class WebSocket:
    def __init__(self, url, timeout=30):
        u = urllib.parse.urlparse(url)
        self.sock = socket.create_connection((u.hostname, u.port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        path = u.path + (("?" + u.query) if u.query else "")
        req = (f"GET {path} HTTP/1.1\r\nHost: {u.hostname}:{u.port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")
        self.sock.sendall(req.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("websocket handshake: connection closed")
            head += chunk
        status, _, rest = head.partition(b"\r\n\r\n")
        if b" 101 " not in status.split(b"\r\n")[0]:
            raise ConnectionError("websocket handshake refused: " + status.decode(errors="replace"))
        self.buf = rest

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(max(65536, n - len(self.buf)))
            if not chunk:
                raise ConnectionError("websocket closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _send_frame(self, opcode, payload):
        mask = os.urandom(4)
        n = len(payload)
        if n < 126:
            header = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
        elif n < 65536:
            header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def send(self, text):
        self._send_frame(1, text.encode())

    def recv(self):
        message = b""
        while True:
            b0, b1 = self._read(2)
            fin, opcode = b0 & 0x80, b0 & 0x0F
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._read(8))[0]
            mask = self._read(4) if b1 & 0x80 else None
            payload = self._read(n)
            if mask:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            if opcode == 9:
                self._send_frame(10, payload)
                continue
            if opcode == 8:
                raise ConnectionError("websocket closed by peer")
            if opcode == 10:
                continue
            message += payload
            if fin:
                return message.decode()

    def settimeout(self, t):
        self.sock.settimeout(t)

    def close(self):
        try:
            self._send_frame(8, b"")
        except OSError:
            pass
        self.sock.close()


class Cdp:
    def __init__(self, ws_url):
        self.ws = WebSocket(ws_url)
        self.next_id = 0
        self.events = []

    def call(self, method, timeout=20, **params):
        self.next_id += 1
        mid = self.next_id
        self.ws.send(json.dumps({"id": mid, "method": method, "params": params}))
        deadline = time.time() + timeout
        while True:
            left = deadline - time.time()
            if left <= 0:
                raise TimeoutError(f"CDP {method}: no answer in {timeout}s")
            self.ws.settimeout(left)
            msg = json.loads(self.ws.recv())
            if msg.get("id") == mid:
                if "error" in msg:
                    raise RuntimeError(f"CDP {method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def pump(self, seconds):
        """Collects events for up to `seconds`."""
        deadline = time.time() + seconds
        while time.time() < deadline:
            self.ws.settimeout(max(0.01, deadline - time.time()))
            try:
                msg = json.loads(self.ws.recv())
            except (socket.timeout, TimeoutError):
                return
            if "method" in msg:
                self.events.append(msg)

    def wait_event(self, name, seconds=20, since=0):
        deadline = time.time() + seconds
        while True:
            for e in self.events[since:]:
                if e["method"] == name:
                    return e
            if time.time() > deadline:
                raise TimeoutError(f"no {name} event within {seconds}s")
            self.pump(0.1)

    def evaluate(self, expr, timeout=20):
        r = self.call("Runtime.evaluate", timeout=timeout, expression=expr, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError(f"page script failed: {expr}: {r['exceptionDetails']}")
        return r["result"].get("value")

    def navigate(self, url, seconds=20):
        mark = len(self.events)
        self.call("Page.navigate", url=url)
        self.wait_event("Page.loadEventFired", seconds, since=mark)

    def wait_for(self, expr, seconds=15):
        deadline = time.time() + seconds
        while True:
            v = self.evaluate(expr)
            if v:
                return v
            if time.time() > deadline:
                raise TimeoutError(f"page never satisfied: {expr}")
            self.pump(0.1)

    def close(self):
        self.ws.close()
