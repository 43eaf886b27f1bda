"""Ways to reach the Sheets emulator: an in-process ``requests`` adapter and a loopback server.

Both hand every request to ``Processor.process`` and then act out the answer, including
injected faults: sleeping for a slow answer, raising ``ReadTimeout`` when the client would
have given up, or dropping the connection without a response.
"""

from __future__ import annotations

import contextlib
import io
import json
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter, HTTPAdapter
from requests.structures import CaseInsensitiveDict

#: The hosts gspread (and google-auth's default token endpoint) talk to.
GOOGLE_PREFIXES = (
    "https://sheets.googleapis.com/",
    "https://www.googleapis.com/",
    "https://oauth2.googleapis.com/",
)

#: Path prefix of the loopback server's control API (state, faults, counters).
CONTROL_PREFIX = "/__emulator/"


@dataclass
class Reply:
    """An HTTP answer: status, JSON body (``None`` for an empty body) and headers.

    ``raw`` carries a non-JSON body (an export), with its Content-Type in ``headers``.
    """

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None

    @property
    def content(self) -> bytes:
        """The encoded body."""
        if self.raw is not None:
            return self.raw
        if self.body is None:
            return b""
        return json.dumps(self.body, ensure_ascii=False, indent=2).encode("utf-8")

    def all_headers(self) -> dict[str, str]:
        """Headers including Content-Type / Content-Length."""
        headers = {}
        if self.body is not None and self.raw is None:
            headers["Content-Type"] = "application/json; charset=UTF-8"
        headers.update(self.headers)
        headers["Content-Length"] = str(len(self.content))
        return headers


@dataclass
class Outcome:
    """What the server does with one request: answer after ``delay``, or drop the line."""

    endpoint: str
    reply: Reply | None
    delay: float = 0.0
    drop: bool = False


class Processor(Protocol):
    """The emulator side the transports need."""

    def process(self, method: str, url: str, headers: Mapping[str, str], body: bytes) -> Outcome:
        """Handle one request."""
        ...

    def control(self, method: str, path: str, body: bytes) -> Reply:
        """Handle a control-API request (loopback server only)."""
        ...


def _read_timeout(timeout: Any) -> float | None:
    if isinstance(timeout, tuple):
        return timeout[1]
    if timeout is None or isinstance(timeout, int | float):
        return timeout
    return getattr(timeout, "read_timeout", None)


class EmulatorAdapter(BaseAdapter):
    """A ``requests`` transport adapter that answers from the emulator, in process.

    Mount it on a session for the Google hosts (see :data:`GOOGLE_PREFIXES`).
    """

    def __init__(self, processor: Processor) -> None:
        super().__init__()
        self.processor = processor

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: bool | str = True,
        cert: Any = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """Process ``request`` and build the ``Response`` (or raise like a network would)."""
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        outcome = self.processor.process(
            request.method or "GET", request.url or "", dict(request.headers), bytes(body)
        )
        if outcome.delay:
            limit = _read_timeout(timeout)
            if limit is not None and outcome.delay > limit:
                time.sleep(limit)
                raise requests.exceptions.ReadTimeout(
                    f"Sheets emulator: no answer within the read timeout ({limit}s)",
                    request=request,
                )
            time.sleep(outcome.delay)
        if outcome.drop or outcome.reply is None:
            raise requests.exceptions.ConnectionError(
                "('Connection aborted.', RemoteDisconnected('Remote end closed connection "
                "without response'))  [Sheets emulator fault injection]",
                request=request,
            )
        return build_response(request, outcome.reply, self)

    def close(self) -> None:
        """Nothing to release."""


def build_response(
    request: requests.PreparedRequest, reply: Reply, adapter: BaseAdapter | None = None
) -> requests.Response:
    """Turn a :class:`Reply` into a ``requests.Response`` for ``request``."""
    response = requests.Response()
    response.status_code = reply.status
    response.headers = CaseInsensitiveDict(reply.all_headers())
    content = reply.content
    response._content = content
    response._content_consumed = True
    response.raw = io.BytesIO(content)
    response.encoding = "utf-8"
    response.url = request.url or ""
    response.request = request
    try:
        response.reason = HTTPStatus(reply.status).phrase
    except ValueError:
        response.reason = "Unknown"
    if adapter is not None:
        response.connection = adapter  # type: ignore[attr-defined]
    return response


class LoopbackAdapter(HTTPAdapter):
    """Sends requests for the Google hosts to a loopback emulator server over plain HTTP.

    This is what a client honouring ``SHEETS_EMULATOR_HOST=host:port`` does: rewrite
    ``https://sheets.googleapis.com`` and ``https://www.googleapis.com`` to
    ``http://host:port``. Proxies from the environment are ignored for loopback.
    """

    def __init__(self, address: str) -> None:
        super().__init__()
        self.base = f"http://{address}"

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        """Rewrite the URL to the emulator and send it."""
        parts = urlsplit(request.url or "")
        rewritten = request.copy()
        rewritten.url = self.base + parts.path + (f"?{parts.query}" if parts.query else "")
        kwargs["proxies"] = {}
        return super().send(rewritten, **kwargs)


def mount_google(session: requests.Session, adapter: BaseAdapter) -> requests.Session:
    """Mount ``adapter`` for every Google host gspread and google-auth use."""
    for prefix in GOOGLE_PREFIXES:
        session.mount(prefix, adapter)
    return session


def loopback_session(address: str, session: requests.Session | None = None) -> requests.Session:
    """A session (or ``session``) whose Google traffic goes to the emulator at ``address``."""
    session = session or requests.Session()
    session.trust_env = False
    return mount_google(session, LoopbackAdapter(address))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "SheetsEmulator/1.0"
    # Headers and body in one segment: avoids Nagle + delayed-ACK stalls on keep-alive.
    disable_nagle_algorithm = True
    wbufsize = -1
    server: _Server

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet (the emulator keeps its own request log)."""

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        processor = self.server.processor
        if self.path.startswith(CONTROL_PREFIX):
            self._send(processor.control(self.command, self.path, body))
            return
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        outcome = processor.process(
            self.command, f"http://{host}{self.path}", dict(self.headers.items()), body
        )
        if outcome.delay:
            time.sleep(outcome.delay)
        if outcome.drop or outcome.reply is None:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._send(outcome.reply)

    def _send(self, reply: Reply) -> None:
        try:
            self.send_response(reply.status)
            for key, value in reply.all_headers().items():
                self.send_header(key, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(reply.content)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up first (e.g. its read timeout beat an injected delay).
            self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], processor: Processor) -> None:
        self.processor = processor
        super().__init__(address, _Handler)


class EmulatorServer:
    """A running loopback server; ``address`` is ``host:port``."""

    def __init__(self, processor: Processor, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = _Server((host, port), processor)
        self.host, self.port = self._server.server_address[:2]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name=f"sheets-emulator-{self.port}",
            daemon=True,
        )
        self._thread.start()

    @property
    def address(self) -> str:
        """``host:port`` (the value for ``SHEETS_EMULATOR_HOST``)."""
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """``http://host:port``."""
        return f"http://{self.address}"

    def session(self) -> requests.Session:
        """A session whose Google traffic goes to this server."""
        return loopback_session(self.address)

    def shutdown(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __str__(self) -> str:
        return self.address

    def __enter__(self) -> EmulatorServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
