"""A trailing window of whole local days, the span merchants are judged over."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from nps_service.filters import ResponseFilter
from nps_service.timezones import local_midnight


@dataclass(frozen=True)
class Window:
    """The last `days` whole local days before `end` (exclusive), in `tz`."""

    days: int
    end: date
    tz: ZoneInfo

    @property
    def start_utc(self) -> datetime:
        return local_midnight(self.end - timedelta(days=self.days), self.tz)

    @property
    def end_utc(self) -> datetime:
        return local_midnight(self.end, self.tz)

    @property
    def before(self) -> "Window":
        """The window of the same length just before this one."""
        return Window(self.days, self.end - timedelta(days=self.days), self.tz)

    def scope(self, **segments: tuple[str, ...]) -> ResponseFilter:
        """The answers in the window with these tags."""
        return ResponseFilter(start=self.start_utc, end=self.end_utc, tz=self.tz, segments=segments)

    def echo(self) -> dict[str, object]:
        """The window as bodies show it."""
        return {"from": self.start_utc, "to": self.end_utc, "days": self.days, "tz": self.tz.key}
