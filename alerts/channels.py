"""Alert channels: where an outbox message is delivered. One small class per kind."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Protocol

import httpx

from alerts.render import render
from jingwang.config import ChannelConfig
from jingwang.i18n import t

log = logging.getLogger("jingwang.alerts")
IDEMPOTENCY_HEADER = "Idempotency-Key"


class DeliveryError(Exception):
    """A delivery failed; ``retryable`` says whether trying again may help."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class Channel(Protocol):
    name: str

    async def send(self, *, idempotency_key: str, payload: dict[str, Any]) -> None: ...


class LogChannel:
    """Writes the alert to the log; always available, useful in the demo."""

    def __init__(self, name: str = "log") -> None:
        self.name = name

    async def send(self, *, idempotency_key: str, payload: dict[str, Any]) -> None:
        title, _ = render(payload)
        log.info("alert %s: %s", idempotency_key, title,
                 extra={"alert_key": idempotency_key, "lead_id": payload.get("lead_id")})


class WebhookChannel:
    """POSTs the payload as JSON; the Idempotency-Key header lets a receiver drop repeats."""

    def __init__(self, name: str, url: str, *, timeout: float = 10.0,
                 client: httpx.AsyncClient | None = None, base_url: str | None = None) -> None:
        self.name = name
        self.url = url
        self.timeout = timeout
        self.base_url = base_url
        self._client = client

    async def send(self, *, idempotency_key: str, payload: dict[str, Any]) -> None:
        title, text = render(payload, base_url=self.base_url)
        body = json.dumps({"idempotency_key": idempotency_key, **payload,
                           "title": title, "text": text}, ensure_ascii=False)
        headers = {"Content-Type": "application/json; charset=utf-8",
                   IDEMPOTENCY_HEADER: idempotency_key}
        client = self._client or httpx.AsyncClient(timeout=self.timeout, follow_redirects=False)
        try:
            response = await client.post(self.url, content=body.encode("utf-8"), headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"webhook {self.url}: {type(exc).__name__}: {exc}") from exc
        finally:
            if self._client is None:
                await client.aclose()
        if response.status_code >= 300:
            retryable = response.status_code >= 500 or response.status_code in (408, 429)
            raise DeliveryError(f"webhook {self.url}: HTTP {response.status_code}",
                                retryable=retryable)


class AppriseChannel:
    """Any Apprise URL: mailto:// and mailtos:// (e-mail), dingtalk://, wecombot://,
    feishu://, json:// … The body is plain text, which Apprise escapes for HTML mail.

    Every message carries its idempotency key: as an ``Idempotency-Key`` header where
    the service takes headers (e-mail, json://), and on the last line of the text.
    """

    def __init__(self, name: str, url: str, *, base_url: str | None = None,
                 timeout: float = 10.0) -> None:
        self.name = name
        self.url = url
        self.base_url = base_url
        self.timeout = timeout
        if self._plugin() is None:
            raise ValueError(f"channel {name}: Apprise does not understand this URL")

    def _plugin(self) -> Any:
        import apprise

        return apprise.Apprise.instantiate(self.url, suppress_exceptions=True)

    def _notify(self, title: str, body: str, idempotency_key: str) -> bool:
        import apprise

        plugin = self._plugin()
        if plugin is None:
            return False
        if isinstance(getattr(plugin, "headers", None), dict):
            plugin.headers[IDEMPOTENCY_HEADER] = idempotency_key
        if hasattr(plugin, "socket_connect_timeout"):
            plugin.socket_connect_timeout = self.timeout
        return bool(plugin.notify(body=body, title=title,
                                  body_format=apprise.NotifyFormat.TEXT))

    async def send(self, *, idempotency_key: str, payload: dict[str, Any]) -> None:
        title, body = render(payload, base_url=self.base_url)
        body = f"{body}\n\n{t('alert.key', idempotency_key=idempotency_key)}"
        ok = await asyncio.to_thread(self._notify, title, body, idempotency_key)
        if not ok:
            raise DeliveryError(f"channel {self.name}: Apprise reported a failed delivery")


def build_channels(configs: list[ChannelConfig], *, base_url: str | None = None
                   ) -> dict[str, Channel]:
    """Channel objects by name, from the ``channels`` section of the config."""
    channels: dict[str, Channel] = {}
    for cfg in configs:
        if cfg.type == "log":
            channels[cfg.name] = LogChannel(cfg.name)
        elif cfg.type == "webhook":
            if not cfg.url:
                raise ValueError(f"channel {cfg.name}: a webhook needs url")
            channels[cfg.name] = WebhookChannel(cfg.name, cfg.url, timeout=cfg.timeout,
                                                base_url=base_url)
        else:
            if not cfg.url:
                raise ValueError(f"channel {cfg.name}: an apprise channel needs url")
            channels[cfg.name] = AppriseChannel(cfg.name, cfg.url, base_url=base_url,
                                                timeout=cfg.timeout)
    return channels
