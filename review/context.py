"""The services one workbench app runs on, built once from the store and handed to routes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from review.auth.service import AuthService
from review.exports.service import ExportService
from review.leads.service import LeadService
from review.rendering import Renderer
from review.stats.service import StatsService
from store.review_queries import ReviewQueries
from store.service import Store


@dataclass
class Context:
    store: Store
    auth: AuthService
    leads: LeadService
    queries: ReviewQueries
    exports: ExportService
    stats: StatsService
    renderer: Renderer
    clock: Callable[[], datetime]
    cookie_secure: bool = False
    letter_template: Path | None = None
