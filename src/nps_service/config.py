"""Settings read from `NPS_*` environment variables."""

from functools import lru_cache
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///nps.db"


class Settings(BaseSettings):
    """Every knob an operator can turn, with production-safe defaults."""

    model_config = SettingsConfigDict(env_prefix="NPS_", extra="ignore")

    database_url: str = Field(
        DEFAULT_DATABASE_URL,
        description="sqlite:///path/to/file.db or postgresql://user:pass@host:5432/db",
    )
    min_n: int = Field(1, ge=1, description="Default minimum group size for scores.")
    # Comma-separated in the environment (NPS_CORS_ORIGINS=https://a.example,https://b.example).
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    max_body_bytes: int = Field(5 * 1024 * 1024, ge=1024)
    future_tolerance_seconds: int = Field(300, ge=0)
    db_pool_size: int = Field(10, ge=1)
    # A request waits this long for a database connection, then gets 503 with Retry-After
    # (never the 30 s hang and 500 of SQLAlchemy's default).
    db_pool_timeout_seconds: float = Field(3.0, gt=0)
    # Every statement a request runs stops after this long and the request gets a 422 that
    # says to narrow it; folding and maintenance run on their own connections, unbounded.
    statement_timeout_seconds: float = Field(15.0, gt=0)
    # Group-by results beyond this many groups are refused (422) before they are built.
    max_groups: int = Field(10_000, ge=1)
    # Requests a process serves at once; more wait up to db_pool_timeout_seconds, then 503.
    max_concurrent_requests: int = Field(32, ge=1)
    # Exports stream from their own connection for their whole life: at most this many at
    # once per process (503 beyond), each for at most export_timeout_seconds.
    max_concurrent_exports: int = Field(2, ge=1)
    export_timeout_seconds: float = Field(600.0, gt=0)
    # Request line and headers larger than this are refused (431) while they arrive.
    max_header_bytes: int = Field(64 * 1024, ge=1024)
    # On SIGTERM, requests in flight get this long to finish before the process exits.
    shutdown_timeout_seconds: int = Field(10, ge=1)
    sqlite_busy_timeout_ms: int = Field(30_000, ge=0)
    log_level: str = "info"
    # How often each server process folds new answers into the rollups; 0 turns it off
    # (then run `nps-service rollup`). Queries are exact either way: unfolded answers are
    # read from the pending tail.
    rollup_interval_seconds: float = Field(1.0, ge=0)
    # How often one server process checks the service's tables and vacuums or analyzes
    # those that need it (PostgreSQL); 0 turns it off.
    upkeep_interval_seconds: float = Field(5.0, ge=0)
    # Webhooks: how often the dispatcher looks for work (0: no dispatcher in this process),
    # the waits before each retry (Standard Webhooks' schedule: 5 s, 5 min, 30 min, 2 h,
    # 5 h, 10 h, 10 h; then the delivery has failed), per-attempt timeout, concurrency.
    webhook_interval_seconds: float = Field(1.0, ge=0)
    webhook_retry_seconds: Annotated[list[float], NoDecode] = Field(
        default_factory=lambda: [5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0]
    )
    webhook_timeout_seconds: float = Field(10.0, gt=0)
    webhook_concurrency: int = Field(8, ge=1)
    # Private, loopback and link-local targets are refused unless this is true.
    webhook_allow_private: bool = False
    # Alerts: how often the scheduler looks for closed intervals (0: none in this
    # process), and how long after an interval closes it waits for late answers.
    alert_interval_seconds: float = Field(30.0, ge=0)
    alert_grace_seconds: float = Field(300.0, ge=0)
    # Privacy: answers and displays older than this many days lose their personal fields
    # (unset: kept); the job runs every retention_interval_seconds in one process at a time.
    retention_days: int | None = Field(None, ge=1)
    retention_interval_seconds: float = Field(3600.0, ge=0)
    # Rate limits per key and per client address (limits' notation, "; "-separated per
    # kind), in memory per process, or shared through Redis when redis_url is set.
    # Defaults far above what a frontend sends (one ingest key serves every page view):
    # they stop floods, not traffic. Empty: no limits.
    rate_limits: str = "key: 100000/minute; address: 20000/minute"
    redis_url: str | None = None
    # Proxies whose X-Forwarded-For is believed (comma-separated IPs or networks); by
    # default none: the peer address is the client.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Weights of the dimensions in a merchant's composite experience score, as JSON in the
    # environment: NPS_COMPOSITE_WEIGHTS='{"logistics": 2, "product": 2, "service": 1, "app": 1}'.
    composite_weights: dict[str, float] = Field(
        default_factory=lambda: {"logistics": 1.0, "product": 1.0, "service": 1.0, "app": 1.0}
    )

    @field_validator("composite_weights")
    @classmethod
    def _known_dimensions(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = set(value) - {"logistics", "product", "service", "app"}
        if unknown:
            raise ValueError(f"unknown dimensions {sorted(unknown)}")
        if any(weight < 0 for weight in value.values()) or sum(value.values()) <= 0:
            raise ValueError("weights must be >= 0 with a positive sum")
        return value

    @field_validator("webhook_retry_seconds", mode="before")
    @classmethod
    def _split_retries(cls, value: object) -> object:
        if isinstance(value, str):
            return [float(part) for part in value.split(",") if part.strip()]
        return value

    @field_validator("webhook_retry_seconds")
    @classmethod
    def _non_negative(cls, value: list[float]) -> list[float]:
        if any(seconds < 0 for seconds in value):
            raise ValueError("retry waits are seconds >= 0")
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings; tests build their own `Settings` instead."""
    return Settings()
