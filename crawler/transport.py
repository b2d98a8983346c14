"""The HTTP transport of the crawler: connections pinned to checked addresses, bounded bodies.

:class:`PinnedTransport` is httpx's own transport with the connection pool's
network backend swapped for :class:`crawler.ssrf.PinnedBackend`, so the address
check and the connection use one DNS answer. :class:`BoundedDecoder` undoes
``Content-Encoding`` itself, so a small compressed body cannot expand without
limit (a "zip bomb").
"""

from __future__ import annotations

import functools
import importlib.util
import ssl
import sys
import zlib

import httpcore
import httpx

from crawler.ssrf import AddressPolicy, PinnedBackend

# Only encodings BoundedDecoder can bound; servers may not send others.
ACCEPT_ENCODING = "gzip, deflate"

# httpcore tries ``import sniffio`` on every request; when it is not installed, each
# failed import searches all of sys.path again (about a tenth of a crawl's CPU time).
# A None entry makes that same ImportError immediate.
if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
    sys.modules["sniffio"] = None  # type: ignore[assignment]


@functools.cache
def ssl_context() -> ssl.SSLContext:
    """httpx's default TLS settings (certifi's CA bundle), built once: loading the bundle
    costs more than a whole request to a nearby host."""
    return httpx.create_ssl_context(trust_env=False)


class PinnedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport whose every TCP connection goes to an address the policy allowed."""

    def __init__(self, policy: AddressPolicy, *, limits: httpx.Limits) -> None:
        context = ssl_context()
        super().__init__(verify=context, limits=limits, trust_env=False)
        # Replace the pool httpx built with the same pool on the pinning backend;
        # request and response handling stay httpx's own.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=PinnedBackend(policy),
        )


class DecodeError(Exception):
    """The body cannot be decoded, or decodes to more than the limit (``too_large``)."""

    def __init__(self, message: str, *, too_large: bool = False) -> None:
        super().__init__(message)
        self.too_large = too_large


class BoundedDecoder:
    """Incremental gzip/deflate decoding that stops past ``limit`` decoded bytes."""

    def __init__(self, content_encoding: str, limit: int) -> None:
        encoding = content_encoding.strip().lower()
        self.limit = limit
        self.size = 0
        self._raw_deflate_tried = False
        if encoding in ("", "identity"):
            self._z: zlib._Decompress | None = None
        elif encoding in ("gzip", "x-gzip"):
            self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._z = zlib.decompressobj()
        else:
            raise DecodeError(f"unsupported Content-Encoding {content_encoding!r}")
        self._deflate = encoding == "deflate"

    def _count(self, data: bytes) -> bytes:
        self.size += len(data)
        if self.size > self.limit:
            raise DecodeError(f"body decodes to more than {self.limit} bytes", too_large=True)
        return data

    def feed(self, data: bytes) -> bytes:
        if self._z is None:
            return self._count(data)
        try:
            out = self._decompress(data)
        except zlib.error:
            if not (self._deflate and not self._raw_deflate_tried and self.size == 0):
                raise DecodeError("body is not valid compressed data") from None
            # Some servers send raw deflate without the zlib header.
            self._raw_deflate_tried = True
            self._z = zlib.decompressobj(-zlib.MAX_WBITS)
            try:
                out = self._decompress(data)
            except zlib.error:
                raise DecodeError("body is not valid compressed data") from None
        return out

    def _decompress(self, data: bytes) -> bytes:
        assert self._z is not None
        chunks: list[bytes] = []
        pending = data
        while True:
            # Never produce more than the room left (+1 to notice going over).
            room = self.limit - self.size + 1
            chunk = self._z.decompress(pending, room)
            chunks.append(self._count(chunk))
            pending = self._z.unconsumed_tail
            if not pending:
                return b"".join(chunks)

    def flush(self) -> bytes:
        if self._z is None:
            return b""
        try:
            return self._count(self._z.flush())
        except zlib.error:
            raise DecodeError("compressed body is truncated") from None
