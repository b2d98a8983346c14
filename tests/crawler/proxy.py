"""A minimal forward HTTP proxy for tests: one request per connection, counted."""

from __future__ import annotations

import asyncio
from types import TracebackType
from urllib.parse import urlsplit


class ForwardProxy:
    """``async with ForwardProxy() as proxy``: an HTTP proxy on 127.0.0.1 (``proxy.url``)."""

    def __init__(self) -> None:
        self.requests: list[str] = []  # absolute URLs it forwarded
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def __aenter__(self) -> ForwardProxy:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            request_line, *headers = head.decode("latin-1").split("\r\n")
            method, target, _version = request_line.split(" ", 2)
            self.requests.append(target)
            parts = urlsplit(target)
            upstream_reader, upstream_writer = await asyncio.open_connection(
                parts.hostname, parts.port or 80)
            kept = [h for h in headers if h and not h.lower().startswith(
                ("connection:", "proxy-", "keep-alive:"))]
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            upstream_writer.write(f"{method} {path} HTTP/1.1\r\n".encode("latin-1")
                                  + "".join(f"{h}\r\n" for h in kept).encode("latin-1")
                                  + b"Connection: close\r\n\r\n")
            await upstream_writer.drain()
            writer.write(await upstream_reader.read())  # until the origin closes
            upstream_writer.close()
            await writer.drain()
        finally:
            writer.close()
