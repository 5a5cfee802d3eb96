"""What the tests' own HTTP servers share (`stub.Stub`, `proxy.FaultProxy`): a real server on a free loopback port,
in threads of the test's process, each request handed to the server's `ThreadedServer.handle`."""

import contextlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Request(BaseHTTPRequestHandler):
    """One request (HTTP/1.1, kept alive), for `ThreadedServer.handle` to answer with `send` or `drop`."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def body(self):
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def send(self, status, headers, content):
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up (a stall)
            self.wfile.write(content)

    def drop(self):
        """Close the connection without an answer."""
        self.close_connection = True

    def _handle(self):
        self.server.owner.handle(self)

    do_GET = do_POST = do_PATCH = do_DELETE = _handle


class ThreadedServer:
    """``url``: where it listens; a context manager (serving inside, shut down after). Subclasses answer in
    `handle`."""

    def __init__(self):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Request)
        self.server.owner = self
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def handle(self, request):
        raise NotImplementedError

    def close(self):
        """What a subclass lets go of once the server is shut down."""

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.close()
