"""Alembic environment: the engine comes from nps-service's own settings."""

from alembic import context
from sqlalchemy.engine import Engine

from nps_service.config import get_settings
from nps_service.db import create_db_engine
from nps_service.models import Base

config = context.config
target_metadata = Base.metadata


def _engine() -> Engine:
    engine = config.attributes.get("engine")
    return engine if engine is not None else create_db_engine(get_settings())


def run_migrations_online() -> None:
    engine = _engine()
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run `nps-service migrate`")
run_migrations_online()
