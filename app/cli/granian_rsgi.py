"""A WSGI app (Flask) on Granian's RSGI interface: the body is awaited, then the app runs.

Under Granian's WSGI interface a request takes a Python thread once its headers
are in, and keeps it while the body trickles in: Granian has no deadline for a
body. Enough threads to outlast slow clients is enough threads to fight over
the GIL, whose hand-offs are not first come, first served: with 16 threads per
worker, RS256 ``/token`` had a p99 of about 75 ms where 4 threads had 32
(README, "Benchmarks"). Here Granian's event loop awaits each body, so a slow
client holds a coroutine and no thread, and one that has not sent its body
within ``BODY_TIMEOUT`` is answered 408 by the app. Then:

- ``/token``, ``/introspect`` and the JSON documents under ``/.well-known/`` run on
  the loop itself, one at a time per worker, in arrival order. Their work is CPU:
  keys and clients are cached in memory, and the rare database read (a client not
  seen for a while) or counter write is short.
- Everything else (console, management API, ``/revoke``, health checks, metrics)
  runs in a small thread pool: a password hash, a database write or a lock wait
  there never stalls the loop.

The WSGI environ is the one Granian's own WSGI interface builds (PEP 3333), with
two differences: header names containing ``_`` are dropped, as gunicorn does (a
client could otherwise send ``X_Forwarded_For`` to pose as ``X-Forwarded-For``),
and repeated ``Cookie`` headers (HTTP/2 splits them) are joined with ``; ``
(RFC 9113 §8.2.3).
"""

from __future__ import annotations

import asyncio
import io
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from werkzeug.exceptions import RequestTimeout

#: seconds a client has to send its whole body once its headers are in
BODY_TIMEOUT = 10.0
#: paths whose requests run on the event loop (CPU work only; see above)
INLINE = frozenset(
    {
        "/token",
        "/introspect",
        "/.well-known/jwks.json",
        "/.well-known/oauth-authorization-server",
    }
)
_PROTOCOLS = {"1": "HTTP/1.0", "1.0": "HTTP/1.0", "1.1": "HTTP/1.1", "2": "HTTP/2"}

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
Answer = tuple[int, list[tuple[str, str]], bytes]


class TimedOutBody(io.RawIOBase):
    """The ``wsgi.input`` of a request whose body did not arrive in time: reading it is a 408."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        raise RequestTimeout(f"the request body did not arrive within {self.seconds:g} seconds")


def _split_address(address: str) -> tuple[str, str]:
    """``"127.0.0.1:80"`` or ``"[::1]:80"`` → (host, port), brackets off."""
    host, _, port = address.rpartition(":")
    return host.strip("[]"), port


def _add_headers(environ: dict[str, Any], headers: list[tuple[str, str]]) -> None:
    for name, value in headers:
        if name == "content-type":
            environ["CONTENT_TYPE"] = value
        elif name == "content-length":
            environ["CONTENT_LENGTH"] = value
        elif "_" not in name:
            key = "HTTP_" + name.upper().replace("-", "_")
            if key in environ:
                value = environ[key] + ("; " if key == "HTTP_COOKIE" else ",") + value
            environ[key] = value


class RSGIBridge:
    """Serves a WSGI app to Granian's RSGI interface (``__rsgi__``)."""

    def __init__(
        self,
        app: WSGIApp,
        max_body: int,
        threads: int,
        body_timeout: float = BODY_TIMEOUT,
        inline: frozenset[str] = INLINE,
        on_stop: Callable[[], None] | None = None,
    ) -> None:
        self.app = app
        #: called in each worker after its last request (the app's own last words)
        self.on_stop = on_stop
        self.inline = inline
        self.max_body = max_body
        self.threads = threads
        self.body_timeout = body_timeout
        #: how often late bodies are looked for
        self.tick = min(1.0, body_timeout / 4)
        #: body reads in progress (task → loop time it began), and those past the deadline
        self.reading: dict[asyncio.Task, float] = {}
        self.expired: set[asyncio.Task] = set()
        self.pool: ThreadPoolExecutor | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.base = {
            "SCRIPT_NAME": "",
            "wsgi.version": (1, 0),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
            "wsgi.input_terminated": True,
        }

    def __rsgi_init__(self, loop: asyncio.AbstractEventLoop) -> None:
        """Granian calls this once per worker, before the first request."""
        self.loop = loop
        self.pool = ThreadPoolExecutor(self.threads, thread_name_prefix="gatehouse-app")
        loop.call_soon(self._sweep)

    def __rsgi_del__(self, loop: asyncio.AbstractEventLoop) -> None:
        """Granian calls this once per worker, after the last request."""
        if self.pool is not None:
            self.pool.shutdown(wait=True)
        if self.on_stop is not None:
            self.on_stop()

    async def __rsgi__(self, scope, protocol) -> None:
        environ = self.environ(scope)
        environ["wsgi.input"] = await self._input(environ, protocol)
        if scope.path in self.inline:
            status, response_headers, data = self.call(environ)
        else:
            assert self.loop is not None and self.pool is not None
            status, response_headers, data = await self.loop.run_in_executor(
                self.pool, self.call, environ
            )
        protocol.response_bytes(status, response_headers, data)

    async def _input(self, environ: dict[str, Any], protocol) -> io.RawIOBase:
        """The body as ``wsgi.input``, if it arrives within ``body_timeout`` seconds.

        At most ``max_body + 1`` bytes are read: the app's own limit answers 413. A
        declared length over the limit is not read at all (the app refuses it from
        ``CONTENT_LENGTH`` alone); a chunked body is read one byte past the limit.
        """
        length = environ.get("CONTENT_LENGTH")
        chunked = "HTTP_TRANSFER_ENCODING" in environ
        if length is None and not chunked:
            return io.BytesIO()
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            return io.BytesIO()
        task = asyncio.current_task()
        assert self.loop is not None and task is not None
        self.reading[task] = self.loop.time()
        try:
            if length is not None:
                return io.BytesIO(await protocol())
            data = bytearray()
            async for chunk in protocol:
                data += chunk
                if len(data) > self.max_body:
                    break
            return io.BytesIO(bytes(data))
        except asyncio.CancelledError:
            if task not in self.expired:
                raise  # not ours: the client went away, or the worker stops
            self.expired.discard(task)
            task.uncancel()
            return TimedOutBody(self.body_timeout)
        finally:
            del self.reading[task]

    def _sweep(self) -> None:
        """Cancel the body reads older than ``body_timeout``; again in ``tick`` seconds.

        One timer per worker instead of one per request: ``asyncio.timeout`` around a
        read costs 6.0 µs on uvloop, this bookkeeping 1.1 µs (best of 5 x 50,000). A
        late body is cut between ``body_timeout`` and ``body_timeout + tick`` seconds.
        """
        assert self.loop is not None
        started_before = self.loop.time() - self.body_timeout
        for task, started in list(self.reading.items()):
            if started <= started_before and task not in self.expired:
                self.expired.add(task)
                task.cancel()
        self.loop.call_later(self.tick, self._sweep)

    def environ(self, scope) -> dict[str, Any]:
        """The PEP 3333 environ of one request, but ``wsgi.input``."""
        environ = self.base.copy()
        environ["REQUEST_METHOD"] = scope.method
        # PEP 3333: PATH_INFO holds the path's bytes, decoded as latin-1
        environ["PATH_INFO"] = scope.path.encode().decode("latin-1")
        environ["QUERY_STRING"] = scope.query_string
        environ["SERVER_PROTOCOL"] = _PROTOCOLS.get(scope.http_version, "HTTP/1.1")
        environ["SERVER_NAME"], environ["SERVER_PORT"] = _split_address(scope.server)
        environ["REMOTE_ADDR"] = _split_address(scope.client)[0]
        environ["wsgi.url_scheme"] = scope.scheme
        _add_headers(environ, scope.headers.items())
        return environ

    def call(self, environ: dict[str, Any]) -> Answer:
        """Run the WSGI app to the end: (status, headers, body)."""
        answer: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info=None):
            answer[:] = (int(status[:3]), headers)
            return _write_unsupported

        result = self.app(environ, start_response)
        try:
            data = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return answer[0], answer[1], data


def _write_unsupported(data: bytes) -> None:
    raise NotImplementedError("the WSGI write() callable is not supported: return the body")
