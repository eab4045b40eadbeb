#!/usr/bin/python3
"""Reverse proxy in front of `ferry serve` that checks every REST response against Discord's OpenAPI description.

Clients point their REST base URL at this proxy; it forwards each request unchanged to ferry, finds the OpenAPI
operation for the method and path (after /api, /api/v9 or /api/v10), and validates the response: the status must be
documented for the operation, a JSON body must carry `Content-Type: application/json` exactly and validate against
the operation's schema for that status (JSON Schema 2020-12 as OpenAPI 3.1 uses it), a 204 must have no body, and
rate-limit headers must come all or none. Requests outside /api (CDN downloads) are forwarded without checks.

    openapi_proxy.py --upstream http://127.0.0.1:8080 --listen 127.0.0.1:8081 --report out.json
    openapi_proxy.py --self-test          # proves the validator rejects bad bodies, accepts good ones

`GET /_proxy/report` returns the report so far; the same report is written to --report on SIGTERM/SIGINT.
A suite fails when the report has any violation (an undocumented operation counts as one).
"""
import argparse
import asyncio
import datetime
import gzip
import json
import os
import re
import signal
import sys
import urllib.parse
import zlib

import jsonschema
from jsonschema import Draft202012Validator, FormatChecker

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SPEC = os.environ.get(
    "FERRY_OPENAPI_SPEC",
    os.path.normpath(os.path.join(HERE, "..", "..", "third_party", "discord-api-spec", "openapi.json")))
API_PREFIX = re.compile(r"^/api(?:/v(?:9|10))?(?=/|$)")
RATE_LIMIT_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset",
                      "X-RateLimit-Reset-After", "X-RateLimit-Bucket")
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
              "transfer-encoding", "upgrade", "host", "content-length"}
MAX_ERRORS_PER_BODY = 8
# Requests the pinned libraries still make with a method Discord has since renamed; the server must answer them,
# and their responses are checked against the operation that replaced them. Nothing else gets a pass.
LEGACY_METHODS = {
    # discord.py 2.2.2 Thread.join(): POST; Discord documents PUT (join_thread).
    ("POST", "/channels/{channel_id}/thread-members/@me"): "PUT",
}


def _format_checker():
    checker = FormatChecker(formats=())

    @checker.checks("snowflake")
    def _snowflake(v):
        return not isinstance(v, str) or (re.fullmatch(r"0|[1-9][0-9]*", v) is not None and int(v) < 2**64)

    @checker.checks("int32")
    def _int32(v):
        return not isinstance(v, int) or -2**31 <= v < 2**31

    @checker.checks("int64")
    def _int64(v):
        return not isinstance(v, int) or -2**63 <= v < 2**63

    @checker.checks("date-time")
    def _date_time(v):
        if not isinstance(v, str):
            return True
        # RFC 3339: a full date, 'T', a time and a zone; Python's parser accepts the rest of the grammar.
        if not re.fullmatch(r"\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)", v):
            return False
        try:
            datetime.datetime.fromisoformat(re.sub(r"[Zz]$", "+00:00", v).replace("t", "T"))
        except ValueError:
            # fromisoformat in 3.11 rejects >6 fraction digits, which RFC 3339 allows.
            return re.fullmatch(r".*\.\d{7,}.*", v) is not None
        return True

    @checker.checks("uri")
    def _uri(v):
        if not isinstance(v, str):
            return True
        u = urllib.parse.urlsplit(v)
        return bool(u.scheme) and re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", u.scheme) is not None and \
            not any(c in v for c in " \n\t")

    return checker


class Spec:
    """An OpenAPI 3.1 document, indexed for (method, concrete path) → operation look-ups."""

    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            self.doc = json.load(f)
        self.resolver = jsonschema.RefResolver(base_uri="", referrer=self.doc)
        self.formats = _format_checker()
        self.routes = []  # (method, [segment or None for a parameter], template, operation)
        for template, item in self.doc["paths"].items():
            segments = [None if s.startswith("{") else s for s in template.strip("/").split("/")]
            for method, op in item.items():
                if method in ("get", "put", "post", "patch", "delete", "head", "options"):
                    self.routes.append((method.upper(), segments, template, op))
        self._validators = {}

    def deref(self, node):
        while isinstance(node, dict) and "$ref" in node and len(node) == 1:
            _, node = self.resolver.resolve(node["$ref"])
        return node

    def match(self, method, api_path):
        """The operation for a path below the version prefix, preferring literal segments (Discord's own
        `/channels/{id}/messages/pins` over `/channels/{id}/messages/{message_id}`)."""
        parts = [urllib.parse.unquote(p) for p in api_path.strip("/").split("/")]
        best = None
        for m, segments, template, op in self.routes:
            if m != method or len(segments) != len(parts):
                continue
            if all(s is None or s == p for s, p in zip(segments, parts)):
                if any(s is None and p == "" for s, p in zip(segments, parts)):
                    continue
                literal = [s is not None for s in segments]
                if best is None or literal > best[0]:
                    best = (literal, template, op)
        return (best[1], best[2]) if best else (None, None)

    def response_spec(self, op, status):
        responses = op.get("responses", {})
        for key in (str(status), f"{status // 100}XX", "default"):
            if key in responses:
                return key, self.deref(responses[key])
        return None, None

    def validator(self, schema_key, schema):
        v = self._validators.get(schema_key)
        if v is None:
            v = Draft202012Validator(schema, resolver=self.resolver, format_checker=self.formats)
            self._validators[schema_key] = v
        return v

    def check(self, method, path, status, headers, body):
        """Violations (strings) of one exchange; `path` is the request path with its /api prefix."""
        violations = []
        m = API_PREFIX.match(path)
        api_path = path[m.end():] or "/"
        template, op = self.match(method, api_path)
        if op is None:
            for (legacy_method, legacy_template), documented in LEGACY_METHODS.items():
                template, op = self.match(documented, api_path)
                if legacy_method == method and template == legacy_template:
                    break
                template, op = None, None
        if op is None:
            return None, [f"no OpenAPI operation for {method} {api_path}"]
        name = op.get("operationId", template)
        key, resp = self.response_spec(op, status)
        if resp is None:
            violations.append(f"status {status} is not documented for {name} "
                              f"(documented: {', '.join(op.get('responses', {}))})")
        present = [h for h in RATE_LIMIT_HEADERS if headers.get(h) is not None]
        if present and len(present) != len(RATE_LIMIT_HEADERS):
            violations.append("rate-limit headers must come all or none; got only " + ", ".join(present))
        if resp is None:
            return name, violations
        content = resp.get("content") or {}
        schema = (content.get("application/json") or {}).get("schema")
        if schema is None:
            if body:
                violations.append(f"{name} {status} must have no body, got {len(body)} bytes: {body[:200]!r}")
            return name, violations
        ctype = headers.get("Content-Type")
        if ctype != "application/json":
            violations.append(f"Content-Type must be exactly application/json, got {ctype!r}")
        try:
            doc = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            violations.append(f"{name} {status} body is not JSON ({e}): {body[:200]!r}")
            return name, violations
        v = self.validator((template, method, key), schema)
        errors = sorted(v.iter_errors(doc), key=lambda e: list(e.absolute_path))
        for e in errors[:MAX_ERRORS_PER_BODY]:
            violations.append(f"{name} {status} body{_pointer(e.absolute_path)}: {_short(e)}")
        if len(errors) > MAX_ERRORS_PER_BODY:
            violations.append(f"... and {len(errors) - MAX_ERRORS_PER_BODY} more schema errors")
        return name, violations


def _pointer(path):
    return "".join(f"/{p}" for p in path) or " (root)"


def _short(err):
    # A oneOf/anyOf failure says little by itself: name the closest sub-error, as a human would look for it.
    best = jsonschema.exceptions.best_match([err]) if err.context else err
    msg = best.message if best is err else f"{err.validator} failed; closest: {_pointer(best.absolute_path)}: {best.message}"
    return msg if len(msg) < 400 else msg[:400] + "…"


class Recorder:
    def __init__(self):
        self.exchanges = []

    def add(self, entry):
        self.exchanges.append(entry)

    def report(self):
        bad = [e for e in self.exchanges if e.get("violations")]
        return {"requests": len(self.exchanges),
                "operations": sorted({e["operation"] for e in self.exchanges if e.get("operation")}),
                "violations": sum(len(e["violations"]) for e in bad),
                "failing_exchanges": bad}


def _decoded(body, encoding):
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    return body


async def serve(args):
    from aiohttp import web, ClientSession, ClientTimeout, TCPConnector

    spec = Spec(args.spec)
    rec = Recorder()
    upstream = args.upstream.rstrip("/")
    session = ClientSession(auto_decompress=False, timeout=ClientTimeout(total=60),
                            connector=TCPConnector(limit=64), skip_auto_headers=("User-Agent", "Accept-Encoding"))

    async def handle(request):
        if request.path == "/_proxy/report":
            return web.Response(text=json.dumps(rec.report(), indent=1), content_type="application/json")
        body = await request.read()
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP]
        url = upstream + request.rel_url.raw_path_qs
        try:
            async with session.request(request.method, url, headers=headers, data=body or None,
                                       allow_redirects=False) as up:
                resp_body = await up.read()
                status, resp_headers = up.status, up.headers
        except Exception as e:  # ferry down or the socket cut: the client sees a 502, the report says why
            rec.add({"method": request.method, "path": request.path, "status": 502, "operation": None,
                     "violations": [f"upstream request failed: {type(e).__name__}: {e}"]})
            return web.Response(status=502, text=json.dumps({"code": 0, "message": "proxy: upstream failed"}),
                                content_type="application/json")
        entry = {"method": request.method, "path": request.path, "query": request.query_string, "status": status}
        if API_PREFIX.match(request.path):
            try:
                plain = _decoded(resp_body, resp_headers.get("Content-Encoding"))
                op, violations = spec.check(request.method, request.path, status, resp_headers, plain)
            except Exception as e:  # a checker bug must fail the suite, not pass it
                op, violations = None, [f"proxy could not check the response: {type(e).__name__}: {e}"]
            entry.update(operation=op, violations=violations)
            if violations:
                entry["request_body"] = body[:1500].decode("utf-8", "replace")
                entry["response_body"] = resp_body[:3000].decode("utf-8", "replace")
                print(f"openapi_proxy: {request.method} {request.path} -> {status}: " + "; ".join(violations),
                      file=sys.stderr, flush=True)
        rec.add(entry)
        out = web.Response(status=status, body=resp_body)
        for k, v in resp_headers.items():
            if k.lower() not in HOP_BY_HOP:
                out.headers.add(k, v)
        return out

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    host, port = args.listen.rsplit(":", 1)
    site = web.TCPSite(runner, host, int(port))
    await site.start()
    print(f"openapi_proxy: {args.listen} -> {upstream}", file=sys.stderr, flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    if args.report:
        with open(args.report, "w", encoding="utf-8") as f:
            json.dump(rec.report(), f, indent=1)
    await runner.cleanup()
    await session.close()


def self_test(spec_path):
    """The validator must accept a Discord-shaped body and reject broken ones; otherwise it could pass anything."""
    spec = Spec(spec_path)
    user = {"id": "1100000000000000001", "username": "bot", "discriminator": "0", "global_name": None,
            "avatar": None, "public_flags": 0, "flags": 0, "primary_guild": None, "bot": True}
    msg = {"id": "1200123845173051399", "channel_id": "794762915348742153", "type": 0, "content": "hi",
           "mentions": [], "mention_roles": [], "attachments": [], "embeds": [], "components": [],
           "timestamp": "2024-01-25T17:03:41.912000+00:00", "edited_timestamp": None, "flags": 0,
           "author": user, "pinned": False, "mention_everyone": False, "tts": False}
    json_headers = {"Content-Type": "application/json"}
    path = "/api/v10/channels/794762915348742153/messages/1200123845173051399"
    cases = [
        ("good message", "GET", path, 200, json_headers, msg, True),
        ("id as number", "GET", path, 200, json_headers, dict(msg, id=1200123845173051399), False),
        ("missing pinned", "GET", path, 200, json_headers, {k: v for k, v in msg.items() if k != "pinned"}, False),
        ("bad timestamp", "GET", path, 200, json_headers, dict(msg, timestamp="2024-01-25 17:03"), False),
        ("nested author broken", "GET", path, 200, json_headers, dict(msg, author=dict(user, username=None)), False),
        ("charset content type", "GET", path, 200, {"Content-Type": "application/json; charset=utf-8"}, msg, False),
        ("undocumented 500", "GET", path, 500, json_headers, {"code": 0, "message": "x"}, False),
        ("good list", "GET", "/api/channels/794762915348742153/messages", 200, json_headers, [msg, msg], True),
        ("list of wrong items", "GET", "/api/v9/channels/1/messages", 200, json_headers, [1], False),
        ("good 404 error", "GET", path, 404, json_headers, {"code": 10008, "message": "Unknown Message"}, True),
        ("typing 204 empty", "POST", "/api/v10/channels/1/typing", 204, {}, None, True),
        ("204 with a body", "POST", "/api/v10/channels/1/typing", 204, json_headers, {"x": 1}, False),
        ("pins route is literal", "GET", "/api/v10/channels/1/messages/pins", 200, json_headers,
         {"items": [], "has_more": False}, True),
        ("unknown operation", "GET", "/api/v10/nope/1", 200, json_headers, {}, False),
        ("undocumented method", "POST", "/api/v10/channels/1/messages/2", 200, json_headers, msg, False),
        ("discord.py's legacy thread join", "POST", "/api/v10/channels/1/thread-members/@me", 204, {}, None, True),
        ("partial rate-limit headers", "GET", path, 200, dict(json_headers, **{"X-RateLimit-Limit": "5"}), msg,
         False),
        ("gateway bot", "GET", "/api/v10/gateway/bot", 200, json_headers,
         {"url": "ws://127.0.0.1:1", "shards": 1,
          "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 14400000, "max_concurrency": 1}},
         True),
        ("gateway url relative", "GET", "/api/v10/gateway/bot", 200, json_headers,
         {"url": "127.0.0.1 :1", "shards": 1,
          "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 14400000, "max_concurrency": 1}},
         False),
    ]
    failed = 0
    for name, method, p, status, headers, body, want_ok in cases:
        raw = b"" if body is None else json.dumps(body).encode()
        op, violations = spec.check(method, p, status, headers, raw)
        ok = not violations
        verdict = "PASS" if ok == want_ok else "FAIL"
        failed += verdict == "FAIL"
        print(f"{verdict} validator: {name} -> {op}: {'valid' if ok else violations[0][:160]}")
    print(f"{len(cases) - failed} passed, {failed} failed")
    return 1 if failed else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--spec", default=DEFAULT_SPEC)
    ap.add_argument("--upstream", help="ferry's base URL, e.g. http://127.0.0.1:8080")
    ap.add_argument("--listen", default="127.0.0.1:0")
    ap.add_argument("--report", help="write the JSON report here on exit")
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args()
    if args.self_test:
        sys.exit(self_test(args.spec))
    if not args.upstream:
        ap.error("--upstream is required")
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
