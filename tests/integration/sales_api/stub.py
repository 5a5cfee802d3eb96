"""A tiny Sales stand-in on a free loopback port, for the transport's tests: a real HTTP server in a thread that
answers each request from a script (status, headers, body; or a dropped connection, or a stall), and records when
each request came and what it carried."""

import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DROP = "drop"  # close the connection without answering


class Stub:
    def __init__(self):
        self.script = []  # answers still to give, in order: (status, headers, body) | DROP | ("stall", seconds)
        self.default = (200, {}, {"value": []})
        self.requests = []  # (time, method, path, headers)
        self.tokens_issued = 0
        self.token_status = 200
        self.lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                if self.path.startswith("/token"):
                    with stub.lock:
                        stub.tokens_issued += 1
                        answer = (stub.token_status, {}, {"access_token": f"t{stub.tokens_issued}",
                                                          "expires_in": 3600})
                else:
                    with stub.lock:
                        stub.requests.append((time.time(), self.command, self.path, dict(self.headers)))
                        answer = stub.script.pop(0) if stub.script else stub.default
                if answer == DROP:
                    self.close_connection = True
                    return
                if answer[0] == "stall":
                    time.sleep(answer[1])
                    answer = stub.default
                status, headers, body = answer
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up (a stall)
                    self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_DELETE = _answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
