"""Which rollup slot a time falls in, as SQL of each dialect."""

from datetime import UTC, datetime

from nps_service.rollups.grains import Level
from nps_service.rollups.plan import floor_to

_ORIGIN = datetime(2000, 1, 1, tzinfo=UTC)


def slot_sql(dialect: str, level: Level, time: str = "r.submitted_at") -> str:
    """The slot `time` falls in, in the stored format of the dialect."""
    unit = int(level.unit.total_seconds())
    origin = floor_to(_ORIGIN, level)  # a slot start: slots are whole units from it
    if dialect == "postgresql":
        return f"date_bin('{unit} seconds', {time}, TIMESTAMPTZ '{origin.isoformat()}')"
    # SQLite stores 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC): floor whole seconds since the
    # origin to a multiple of the unit (non-negative modulo: answers may predate it).
    # Colons are escaped because text() would read ":00" as a bind parameter.
    seconds = f"CAST(strftime('%s', substr({time}, 1, 19)) AS INTEGER)"
    since = f"({seconds} - {int(origin.timestamp())})"
    floored = f"({seconds} - (({since} % {unit}) + {unit}) % {unit})"
    return f"strftime('%Y-%m-%d %H\\:%M\\:%S', {floored}, 'unixepoch') || '.000000'"
