"""A fault-injecting proxy written for the tests: plain HTTP on a free loopback port (`threaded.ThreadedServer`) in
front of a Sales server (HTTPS), answering a share of the requests itself with 429 and ``Retry-After``, 503, a
dropped connection (before or after passing the request on: an answer lost), or a stall longer than the client
waits; it records when it told a client to wait, and any request that came before the wait was over."""

import random
import threading
import time

import httpx

from .threaded import ThreadedServer

HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "content-encoding"}


class FaultProxy(ThreadedServer):
    def __init__(self, upstream, ca_context, *, throttled=0.10, unavailable=0.05, dropped=0.02, stalled=0.0,
                 stall_seconds=3.0, retry_after=1, seed=61, forced_on_writes=(),
                 forced_methods=("POST", "PATCH"), forced_every=1):
        super().__init__()
        self.upstream = upstream
        self.rates = (throttled, unavailable, dropped, stalled)
        self.stall_seconds, self.retry_after = stall_seconds, retry_after
        self.random = random.Random(seed)
        # faults met by the first writes (POST, PATCH) whatever the dice say, so that each run meets them all:
        # "429", "503", "drop-before", "drop-after" (Sales did the work, its answer lost), "stall"
        self.forced = list(forced_on_writes)
        self.forced_methods = forced_methods  # the requests that meet them (the writes, unless told otherwise)
        # every how many of those: 2 puts each on another request (its retry passes), where 1 makes one request meet
        # them all in a row, its backoff growing with each
        self.forced_every, self.eligible = forced_every, 0
        self.client = httpx.Client(verify=ca_context, timeout=60)
        self.lock = threading.Lock()
        self.counts = {"forwarded": 0, "429": 0, "503": 0, "dropped": 0, "lost answers": 0, "stalled": 0}
        self.waits = []  # (told at, until): a 429's Retry-After
        self.early = []  # (came at, until): requests before a Retry-After had passed

    def handle(self, request):
        came = time.time()
        body = request.body()
        fault = self._fault(came, request.command) if request.path.startswith("/api/data/") else None  # not sign-in
        if fault == "429":
            until = time.time() + self.retry_after
            request.send(429, {"Retry-After": str(self.retry_after)},
                         b'{"error":{"code":"0x80072322","message":"Number of requests exceeded"}}')
            with self.lock:
                self.waits.append((time.time(), until))  # told once the answer is sent
            return None
        if fault == "503":
            return request.send(503, {}, b'{"error":{"code":"0x0","message":"Service unavailable"}}')
        if fault == "drop-before":
            return request.drop()
        if fault == "stall":
            time.sleep(self.stall_seconds)
            return request.drop()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_HEADERS}
        answer = self.client.request(request.command, self.upstream + request.path, content=body, headers=headers)
        with self.lock:
            self.counts["forwarded"] += 1
        if fault == "drop-after":  # done upstream, its answer lost
            return request.drop()
        return request.send(answer.status_code, {k: v for k, v in answer.headers.items()
                                                 if k.lower() not in HOP_HEADERS}, answer.content)

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
            if self.forced and method in self.forced_methods:
                self.eligible += 1
            if self.forced and method in self.forced_methods and self.eligible % self.forced_every == 0:
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

    def close(self):
        self.client.close()
