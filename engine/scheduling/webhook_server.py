"""The HTTP side of webhook triggers: Kestra's webhook URLs served on 127.0.0.1.

An aiohttp server on an event loop of its own thread: it reads each request whole (chunked
bodies included, at most MAX_BODY_BYTES: past that 413), answers malformed requests with a
400 and the reason, keeps a deep listen backlog so a burst of clients is queued rather than
reset, and hands each request to the scheduler in a worker thread (starting an execution
blocks), which finds the flow and key and answers as Kestra does. Nothing is printed: the
scheduler logs each call, and aiohttp's own loggers are kept off stderr.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from engine.triggers.webhook import WebhookRequest

MAX_BODY_BYTES = 64 * 1024 * 1024
LISTEN_BACKLOG = 1024
HANDLER_THREADS = 16
_PATH = re.compile(r"^/api/v1/(?:[^/]+/)?executions/webhook/(?P<namespace>[^/]+)/(?P<flow>[^/]+)/(?P<key>[^/]+)$")

for _name in ("aiohttp.server", "aiohttp.access", "aiohttp.web", "aiohttp.internal"):
    logging.getLogger(_name).addHandler(logging.NullHandler())
    logging.getLogger(_name).propagate = False


@dataclass(frozen=True)
class WebhookResponse:
    status: int
    body: Any = None  # JSON-encoded unless a str with a text content type
    content_type: str = "application/json"


Handler = Callable[[str, str, str, WebhookRequest], WebhookResponse]


def not_found(message: str) -> WebhookResponse:
    return WebhookResponse(404, {"message": f"Not Found: {message}"})


class WebhookServer:
    """Serves GET/POST/PUT /api/v1/[tenant/]executions/webhook/{namespace}/{flowId}/{key}.

    The socket is bound in the constructor, so a port in use raises OSError there."""

    def __init__(self, handle: Handler, host: str = "127.0.0.1", port: int = 8089) -> None:
        self._handle = handle
        self._loop = asyncio.new_event_loop()
        self._workers = ThreadPoolExecutor(HANDLER_THREADS, thread_name_prefix="webhook-handler")
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_route("*", "/{tail:.*}", self._serve)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        try:
            self._loop.run_until_complete(self._bind(host, port))
        except BaseException:
            self._loop.run_until_complete(self._runner.cleanup())
            self._loop.close()
            self._workers.shutdown(wait=False)
            raise
        self._thread = threading.Thread(target=self._loop.run_forever, name="webhook-server", daemon=True)

    async def _bind(self, host: str, port: int) -> None:
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port, backlog=LISTEN_BACKLOG, reuse_address=True)
        await site.start()

    @property
    def port(self) -> int:
        return int(self._runner.addresses[0][1])

    @property
    def host(self) -> str:
        return str(self._runner.addresses[0][0])

    def url(self, namespace: str, flow_id: str, key: str) -> str:
        return f"http://{self.host}:{self.port}/api/v1/executions/webhook/{namespace}/{flow_id}/{key}"

    def start(self) -> WebhookServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._loop.is_closed():
            return
        if self._thread.is_alive():
            future = asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop)
            try:
                future.result(5)
            except Exception:  # noqa: S110 - stopping anyway: the loop goes next
                pass
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
        else:
            self._loop.run_until_complete(self._runner.cleanup())
        self._loop.close()
        self._workers.shutdown(wait=False, cancel_futures=True)

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        if request.method not in ("GET", "POST", "PUT"):
            return _reply(WebhookResponse(405, {"message": f"Method Not Allowed: {request.method}"}))
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _reply(WebhookResponse(413, {"message": f"Request body too large: at most "
                                                           f"{MAX_BODY_BYTES} bytes"}))
        match = _PATH.match(request.rel_url.raw_path)
        if match is None:
            return _reply(not_found("no webhook at this path; the URL is "
                                    "/api/v1/executions/webhook/{namespace}/{flowId}/{key}"))
        webhook_request = WebhookRequest(method=request.method, headers=list(request.headers.items()),
                                         query=request.rel_url.raw_query_string, body=body)
        try:
            response = await self._loop.run_in_executor(
                self._workers, self._handle, unquote(match["namespace"]), unquote(match["flow"]),
                unquote(match["key"]), webhook_request)
        except Exception as exc:  # a Roost bug answers 500, and the server keeps serving
            response = WebhookResponse(500, {"message": f"Internal Server Error: {exc!r}"})
        return _reply(response)


def _reply(response: WebhookResponse) -> web.Response:
    if response.body is None and response.status == 204:
        return web.Response(status=204)
    if isinstance(response.body, str) and not response.content_type.endswith("json"):
        payload = response.body.encode("utf-8")
    else:
        payload = json.dumps(response.body, default=str).encode("utf-8")
    return web.Response(status=response.status, body=payload, headers={"Content-Type": response.content_type})
