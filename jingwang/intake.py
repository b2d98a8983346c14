"""Listing URLs handed in by people (complaints, 群众举报): checked, then crawled like a source.

Every URL is refused before anything is stored unless its host belongs to a
platform profile and resolves only to addresses that profile may reach
(:mod:`crawler.ssrf`); the accepted ones run through the normal pipeline as a
``urls`` source, so they are parsed, detected and stored like crawled listings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from crawler.profiles import Profile
from crawler.ssrf import BlockedAddressError, ResolveError, check_url, host_and_port
from jingwang.config import SourceConfig
from jingwang.pipeline import Pipeline, RunSummary

DEFAULT_SOURCE = "submit"


@dataclass(frozen=True, slots=True)
class Refusal:
    """A submitted URL that will not be fetched, and why (zh-CN)."""

    url: str
    reason: str


def _origin(url: str) -> tuple[str, int] | None:
    """Host and port as the HTTP client parses them (a second parser could disagree)."""
    try:
        return host_and_port(url.strip())
    except BlockedAddressError:
        return None


def match_profile(url: str, profiles: Mapping[str, Profile]) -> Profile | None:
    """The profile whose base URL's host serves ``url``: the same host and port, or a
    subdomain of it (``item.shop.example`` belongs to ``www.shop.example``)."""
    origin = _origin(url)
    if origin is None:
        return None
    host, port = origin
    for profile in profiles.values():
        base = _origin(profile.base_url)
        if base is None or base[1] != port:
            continue
        base_host = base[0].removeprefix("www.")
        if host in (base[0], base_host) or host.endswith("." + base_host):
            return profile
    return None


def check_submitted(urls: Sequence[str], profiles: Mapping[str, Profile]
                    ) -> tuple[dict[str, list[str]], list[Refusal]]:
    """Accepted URLs by platform, and the refused ones with their reasons.

    A URL is refused when its scheme or host is malformed, when it resolves to
    a loopback, private, link-local, CGNAT, multicast or IPv4-mapped address
    (loopback only for a profile marked ``allow_loopback``), or when no platform
    profile serves its host.
    """
    accepted: dict[str, list[str]] = {}
    refused: list[Refusal] = []
    for raw in urls:
        url = raw.strip()
        profile = match_profile(url, profiles)
        try:
            check_url(url, allow_loopback=profile.allow_loopback if profile else False)
        except BlockedAddressError as exc:
            refused.append(Refusal(url, f"地址不允许访问：{exc.reason}"))
            continue
        except ResolveError as exc:
            refused.append(Refusal(url, f"无法解析主机名：{exc}"))
            continue
        if profile is None:
            refused.append(Refusal(url, "没有与该网址的主机匹配的平台配置"))
            continue
        accepted.setdefault(profile.name, []).append(url)
    return accepted, refused


async def submit(urls_by_platform: Mapping[str, list[str]], *, pipeline: Pipeline,
                 source_name: str = DEFAULT_SOURCE) -> list[RunSummary]:
    """Crawl the accepted URLs, one run per platform (a blocked source is still tried:
    a complaint must not wait for a back-off)."""
    summaries = []
    for platform, urls in urls_by_platform.items():
        name = source_name if len(urls_by_platform) == 1 else f"{source_name}-{platform}"
        source = SourceConfig(name=name, platform=platform, kind="urls", urls=urls,
                              enabled=False)
        summaries.append(await pipeline.run_source(source, force=True))
    return summaries
