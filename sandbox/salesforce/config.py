"""Start-up configuration of the Salesforce stand-in (filled from the command line)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Config:
    """Everything the command line can set; admin calls may change the fault and limit parts at run time."""

    data_dir: Path
    client_id: str = "contact-sync-client-id"
    client_secret: str = "contact-sync-client-secret"  # noqa: S105 - a stand-in's well-known test secret
    jwt_cert: Path | None = None
    jwt_audiences: tuple[str, ...] = ("https://login.salesforce.com", "https://test.salesforce.com")
    refresh_tokens: list[str] = field(default_factory=list)
    username: str = "integration@contact-sync.example"
    daily_api_limit: int = 15_000
    page_size: int = 2000
    latency_ms: float = 0.0
    error_rate: float = 0.0
    session_ttl: float = 7200.0
    bulk_job_ms: float = 0.0
    seed: int | None = None
    min_version: float = 31.0
    max_version: float = 66.0
