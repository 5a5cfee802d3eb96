"""A fault-injecting proxy written for the tests: plain HTTP on a free loopback port in front of a Sales server
(HTTPS), answering a share of the requests itself with 429 and ``Retry-After``, 503, a dropped connection (before or
after passing the request on: an answer lost), or a stall longer than the client waits; it records when it told a
client to wait, and any request that came before the wait was over."""

import contextlib
import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "content-encoding"}


class FaultProxy:
    def __init__(self, upstream, ca_context, *, throttled=0.10, unavailable=0.05, dropped=0.02, stalled=0.0,
                 stall_seconds=3.0, retry_after=1, seed=61, forced_on_writes=()):
        self.upstream = upstream
        self.rates = (throttled, unavailable, dropped, stalled)
        self.stall_seconds, self.retry_after = stall_seconds, retry_after
        self.random = random.Random(seed)
        # faults met by the first writes (POST, PATCH) whatever the dice say, so that each run meets them all:
        # "429", "503", "drop-before", "drop-after" (Sales did the work, its answer lost), "stall"
        self.forced = list(forced_on_writes)
        self.client = httpx.Client(verify=ca_context, timeout=60)
        self.lock = threading.Lock()
        self.counts = {"forwarded": 0, "429": 0, "503": 0, "dropped": 0, "lost answers": 0, "stalled": 0}
        self.waits = []  # (told at, until): a 429's Retry-After
        self.early = []  # (came at, until): requests before a Retry-After had passed
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _handle(self):
                came = time.time()
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fault = proxy._fault(came, self.command) if self.path.startswith("/api/data/") else None  # not sign-in
                if fault == "429":
                    until = time.time() + proxy.retry_after
                    self._send(429, {"Retry-After": str(proxy.retry_after)},
                               b'{"error":{"code":"0x80072322","message":"Number of requests exceeded"}}')
                    with proxy.lock:
                        proxy.waits.append((time.time(), until))  # told once the answer is sent
                    return None
                if fault == "503":
                    return self._send(503, {}, b'{"error":{"code":"0x0","message":"Service unavailable"}}')
                if fault == "drop-before":
                    self.close_connection = True
                    return None
                if fault == "stall":
                    time.sleep(proxy.stall_seconds)
                    self.close_connection = True
                    return None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS}
                answer = proxy.client.request(self.command, proxy.upstream + self.path, content=body, headers=headers)
                with proxy.lock:
                    proxy.counts["forwarded"] += 1
                if fault == "drop-after":  # done upstream, its answer lost
                    self.close_connection = True
                    return None
                return self._send(answer.status_code, {k: v for k, v in answer.headers.items()
                                                       if k.lower() not in HOP_HEADERS}, answer.content)

            def _send(self, status, headers, content):
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up (a stall)
                    self.wfile.write(content)

            do_GET = do_POST = do_PATCH = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _fault(self, came, method):
        """Which fault this request meets (None: passed on), and whether it came before a Retry-After was over:
        sent (``came``: its request line read) after the 429 was, but before the wait ended. A request another
        thread of the client sent as the 429 was on its way (50 ms) is not counted early."""
        now = came
        throttled, unavailable, dropped, stalled = self.rates
        with self.lock:
            for told, until in self.waits:
                if told + 0.05 < now < until:
                    self.early.append((now, until))
            if self.forced and method in ("POST", "PATCH"):
                fault = self.forced.pop(0)
                self.counts[{"drop-before": "dropped", "drop-after": "dropped", "stall": "stalled"}.get(fault, fault)] += 1
                if fault == "drop-after":
                    self.counts["lost answers"] += 1
                return fault
            roll = self.random.random()
            for name, rate in (("429", throttled), ("503", unavailable), ("dropped", dropped), ("stalled", stalled)):
                if roll < rate:
                    self.counts[name] += 1
                    if name == "dropped":
                        half = self.random.random() < 0.5
                        if half:
                            self.counts["lost answers"] += 1
                        return "drop-after" if half else "drop-before"
                    return "stall" if name == "stalled" else name
                roll -= rate
        return None

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.client.close()
