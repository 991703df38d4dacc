"""Creating, listing, revoking and checking API keys."""

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from nps_service.keys.models import ApiKey

KEY_PREFIX = "nps_"


class Scope(StrEnum):
    """What a key may do. `admin` implies the others."""

    INGEST = "ingest"
    READ = "read"
    ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    """The caller behind a request."""

    key_id: int
    name: str
    scopes: frozenset[Scope]
    # A read key limited to these merchants; None sees every merchant.
    merchants: frozenset[str] | None = None

    def allows(self, scope: Scope) -> bool:
        return scope in self.scopes or Scope.ADMIN in self.scopes


MERCHANT_ID = re.compile(r"[\w\-.:/]{1,64}")


def hash_key(plaintext: str) -> str:
    """Keys are 256-bit random secrets, so a plain SHA-256 cannot be brute-forced."""
    return hashlib.sha256(plaintext.encode()).hexdigest()


def create_key(
    session: Session, name: str, scopes: list[Scope], merchants: list[str] | None = None
) -> tuple[ApiKey, str]:
    """Store a new key and return it with its plaintext, which is never stored.

    `merchants`: a read-only key limited to these merchants (a merchant back-end's key).
    """
    if not scopes:
        raise ValueError("a key needs at least one scope")
    if merchants:
        if set(scopes) != {Scope.READ}:
            raise ValueError("a merchant key has the read scope only")
        if not all(MERCHANT_ID.fullmatch(m) for m in merchants):
            raise ValueError("merchant ids are 1-64 letters, digits or _ - . : /")
    name = name.strip()
    if not 1 <= len(name) <= 128:
        raise ValueError("a key name is 1-128 characters")
    plaintext = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        name=name,
        prefix=plaintext[:12],
        key_hash=hash_key(plaintext),
        scopes=" ".join(sorted({s.value for s in scopes})),
        created_at=datetime.now(UTC),
        merchants=sorted(set(merchants)) if merchants else None,
    )
    session.add(key)
    session.flush()
    return key, plaintext


def list_keys(session: Session) -> list[ApiKey]:
    """Every key, newest first, revoked ones included."""
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id.desc())))


def revoke_key(session: Session, key_id: int) -> ApiKey | None:
    """Mark a key revoked; returns None when there is no such key."""
    key = session.get(ApiKey, key_id)
    if key is not None and key.revoked_at is None:
        key.revoked_at = datetime.now(UTC)
        session.flush()
    return key


def authenticate(session: Session, plaintext: str) -> Principal | None:
    """The principal for a presented key, or None if unknown or revoked."""
    key = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(plaintext)))
    if key is None or key.revoked_at is not None:
        return None
    merchants = frozenset(key.merchants) if key.merchants is not None else None
    return Principal(key.id, key.name, frozenset(Scope(s) for s in key.scopes.split()), merchants)


def still_valid(session: Session, key_id: int) -> bool:
    """Whether a key found valid earlier (and cached) has not been revoked since."""
    revoked = session.execute(select(ApiKey.revoked_at).where(ApiKey.id == key_id)).first()
    return revoked is not None and revoked[0] is None
