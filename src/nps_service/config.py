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
    sqlite_busy_timeout_ms: int = Field(30_000, ge=0)
    log_level: str = "info"
    # How often each server process folds new answers into the rollups; 0 turns it off
    # (then run `nps-service rollup`). Queries are exact either way: unfolded answers are
    # read from the pending tail.
    rollup_interval_seconds: float = Field(1.0, ge=0)
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
