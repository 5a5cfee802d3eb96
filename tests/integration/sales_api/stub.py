"""A tiny Sales stand-in on a free loopback port, for the transport's tests: a real HTTP server in a thread
(`threaded.ThreadedServer`) that answers each request from a script (status, headers, body; or a dropped
connection, or a stall), and records when each request came and what it carried."""

import json
import threading
import time

from .threaded import ThreadedServer

DROP = "drop"  # close the connection without answering


class Stub(ThreadedServer):
    def __init__(self):
        super().__init__()
        self.script = []  # answers still to give, in order: (status, headers, body) | DROP | ("stall", seconds)
        self.default = (200, {}, {"value": []})
        self.requests = []  # (time, method, path, headers)
        self.tokens_issued = 0
        self.token_status = 200
        self.lock = threading.Lock()

    def handle(self, request):
        request.body()
        if request.path.startswith("/token"):
            with self.lock:
                self.tokens_issued += 1
                answer = (self.token_status, {}, {"access_token": f"t{self.tokens_issued}", "expires_in": 3600})
        else:
            with self.lock:
                self.requests.append((time.time(), request.command, request.path, dict(request.headers)))
                answer = self.script.pop(0) if self.script else self.default
        if answer == DROP:
            return request.drop()
        if answer[0] == "stall":
            time.sleep(answer[1])
            answer = self.default
        status, headers, body = answer
        data = json.dumps(body).encode() if body is not None else b""
        return request.send(status, {**headers, "Content-Type": "application/json"}, data)
