"""The HTTP side of webhook triggers: Kestra's webhook URLs served on 127.0.0.1.

A standard-library threading HTTP server: each request is parsed here and handed to
the scheduler, which finds the flow and key and answers as Kestra does.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from engine.triggers.webhook import WebhookRequest

MAX_BODY_BYTES = 64 * 1024 * 1024
_PATH = re.compile(r"^/api/v1/(?:[^/]+/)?executions/webhook/(?P<namespace>[^/]+)/(?P<flow>[^/]+)/(?P<key>[^/]+)$")


@dataclass(frozen=True)
class WebhookResponse:
    status: int
    body: Any = None  # JSON-encoded unless a str with a text content type
    content_type: str = "application/json"


Handler = Callable[[str, str, str, WebhookRequest], WebhookResponse]


def not_found(message: str) -> WebhookResponse:
    return WebhookResponse(404, {"message": f"Not Found: {message}"})


class WebhookServer:
    """Serves GET/POST/PUT /api/v1/[tenant/]executions/webhook/{namespace}/{flowId}/{key}."""

    def __init__(self, handle: Handler, host: str = "127.0.0.1", port: int = 8089) -> None:
        self._handle = handle
        server = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 (http.server's names)
                server._serve(self)

            do_POST = do_PUT = do_GET  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:
                """The scheduler logs each call; the default stderr line would duplicate it."""

        self._http = ThreadingHTTPServer((host, port), RequestHandler)
        self._http.daemon_threads = True
        self._thread = threading.Thread(target=self._http.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="webhook-server", daemon=True)

    @property
    def port(self) -> int:
        return int(self._http.server_address[1])

    @property
    def host(self) -> str:
        return str(self._http.server_address[0])

    def url(self, namespace: str, flow_id: str, key: str) -> str:
        return f"http://{self.host}:{self.port}/api/v1/executions/webhook/{namespace}/{flow_id}/{key}"

    def start(self) -> WebhookServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()
        self._thread.join(5)

    def _serve(self, request: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(request.path)
        match = _PATH.match(parts.path)
        length = int(request.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self._reply(request, WebhookResponse(413, {"message": "Request body too large"}))
            return
        body = request.rfile.read(length) if length > 0 else b""
        if match is None:
            self._reply(request, not_found("no webhook at this path; the URL is "
                                           "/api/v1/executions/webhook/{namespace}/{flowId}/{key}"))
            return
        webhook_request = WebhookRequest(method=request.command, headers=list(request.headers.items()),
                                         query=parts.query, body=body)
        try:
            response = self._handle(unquote(match["namespace"]), unquote(match["flow"]),
                                    unquote(match["key"]), webhook_request)
        except Exception as exc:  # a Roost bug answers 500, and the server keeps serving
            response = WebhookResponse(500, {"message": f"Internal Server Error: {exc!r}"})
        self._reply(request, response)

    @staticmethod
    def _reply(request: BaseHTTPRequestHandler, response: WebhookResponse) -> None:
        if response.body is None and response.status == 204:
            payload = b""
        elif isinstance(response.body, str) and not response.content_type.endswith("json"):
            payload = response.body.encode("utf-8")
        else:
            payload = json.dumps(response.body, default=str).encode("utf-8")
        request.send_response(response.status)
        if payload:
            request.send_header("Content-Type", response.content_type)
        request.send_header("Content-Length", str(len(payload)))
        request.end_headers()
        request.wfile.write(payload)
