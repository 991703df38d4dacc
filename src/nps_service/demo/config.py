"""What to generate."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta


def _this_hour() -> datetime:
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class DemoConfig:
    """What to generate: answers fall in [end - days, end), in submitted_at order."""

    count: int
    seed: int = 42
    end: datetime = field(default_factory=_this_hour)
    days: int = 365
    merchants: int = 5000
    respondents: int = 900_000  # respondent ids u_100000 .. u_<100000 + respondents - 1>
    # Zipf-Mandelbrot popularity: answers per merchant ∝ 1 / (rank + 1 + offset)^exponent
    zipf_exponent: float = 1.1
    zipf_offset: float = 8.0

    def __post_init__(self) -> None:
        if self.count < 0:
            raise ValueError("count must be >= 0")
        if self.days < 1:
            raise ValueError("days must be >= 1")
        if self.merchants < 1 or self.respondents < 1:
            raise ValueError("merchants and respondents must be >= 1")
        if self.zipf_exponent < 0 or self.zipf_offset < 0:
            raise ValueError("zipf_exponent and zipf_offset must be >= 0")
        if self.end.tzinfo is None or self.end.utcoffset() is None:
            raise ValueError("end must include a UTC offset")
        object.__setattr__(self, "end", self.end.astimezone(UTC))
        if self.end - timedelta(days=self.days) < datetime(1970, 1, 1, tzinfo=UTC):
            raise ValueError("end - days must not be before 1970-01-01")

    @property
    def start(self) -> datetime:
        return self.end - timedelta(days=self.days)
