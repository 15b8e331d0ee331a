"""A real HTTP server on 127.0.0.1 for the HTTP task and trigger tests (http.server in a thread).

Each route answers what the tests pin: an echo of the request (method, headers, body, form
parts), basic auth, redirects, a slow answer, error codes, a file download, an empty body.
`state` lets a test change what `/status` answers between polls.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

DOWNLOAD_BYTES = bytes(range(256)) * 4096 + b"tail"  # 1 MiB and a bit, every byte value


@dataclass
class ServerState:
    status_code: int = 200
    status_body: str = '{"ready": false}'
    requests: list[str] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    server_version = "RoostTest/1"
    state: ServerState

    def log_message(self, *_args: Any) -> None:  # keep pytest output clean
        pass

    def _send(self, code: int, body: bytes, content_type: str = "application/json",
              extra: dict[str, str] | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _echo(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        answer: dict[str, Any] = {"method": self.command, "path": self.path,
                                  "headers": {k.lower(): v for k, v in self.headers.items()}}
        content_type = self.headers.get("Content-Type") or ""
        if content_type.startswith("multipart/form-data"):
            message = BytesParser(policy=policy.HTTP).parsebytes(
                f"Content-Type: {content_type}\r\n\r\n".encode() + raw)
            form: dict[str, Any] = {}
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                payload = part.get_payload(decode=True) or b""
                filename = part.get_filename()
                form[str(name)] = ({"filename": filename, "content": base64.b64encode(payload).decode()}
                                   if filename else payload.decode())
            answer["form"] = form
        elif content_type.startswith("application/x-www-form-urlencoded"):
            answer["form"] = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        else:
            answer["body"] = raw.decode("utf-8", errors="replace")
        self._send(200, json.dumps(answer).encode())

    def _route(self) -> None:
        path = urlsplit(self.path).path
        self.state.requests.append(f"{self.command} {path}")
        if path == "/echo":
            self._echo()
        elif path == "/auth":
            expected = "Basic " + base64.b64encode(b"ada:l0vel4ce").decode()
            if self.headers.get("Authorization") == expected:
                self._send(200, b'{"user": "ada"}')
            else:
                self._send(401, b'{"error": "who are you?"}', extra={"WWW-Authenticate": 'Basic realm="t"'})
        elif path == "/bearer":
            ok = self.headers.get("Authorization") == "Bearer t0ken"
            self._send(200 if ok else 401, b"ok" if ok else b"no", "text/plain")
        elif path == "/redirect":
            self._send(302, b"", "text/plain", {"Location": "/echo"})
        elif path == "/slow":
            time.sleep(1.0)
            self._send(200, b"late", "text/plain")
        elif path == "/teapot":
            self._send(418, b'{"short": "and stout"}')
        elif path == "/missing":
            self._send(404, b"nothing here", "text/plain")
        elif path == "/file.bin":
            self._send(200, DOWNLOAD_BYTES, "application/octet-stream")
        elif path == "/named":
            self._send(200, b"a,b\n1,2\n", "text/csv",
                       {"Content-Disposition": 'attachment; filename="/etc/report.csv"'})
        elif path == "/empty":
            self.send_response(204)
            self.end_headers()
        elif path == "/status":
            self._send(self.state.status_code, self.state.status_body.encode())
        else:
            self._send(404, b"{}")

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _route


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (a timeout test) is expected: no traceback on stderr."""


@contextmanager
def http_server() -> Iterator[tuple[str, ServerState]]:
    """Serve on a free 127.0.0.1 port; yields the base URL and the state the routes read."""
    state = ServerState()
    handler = type("Handler", (_Handler,), {"state": state})
    server = _QuietServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        server.shutdown()
        server.server_close()
