"""The `api_keys` table. Only a SHA-256 of each key is stored."""

from datetime import datetime

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from nps_service.db import Base, UTCDateTime


class ApiKey(Base):
    """An API key: a name, its scopes and the hash of the secret."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128))
    # The first characters of the key, safe to show, so operators can tell keys apart.
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(String(64))  # space-separated
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A read key limited to these merchants; null for keys that see every merchant.
    merchants: Mapped[list[str] | None] = mapped_column(JSON)
