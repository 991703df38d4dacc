"""The file formats answers travel in: the import/export CSV layout, and NDJSON.

The CSV has a header naming any of `CSV_COLUMNS` in any order; an empty cell is an absent
field, dimensions and context tags are flattened into their own columns, and `properties`
is a JSON object in one cell. NDJSON is one `POST /v1/responses` body per line. The
importer reads both, the export writes both, and the demo generator writes both.

Text cells that a spreadsheet would run as a formula are written with a leading `'`, and
a leading `'` is dropped again on reading (`web.spreadsheet`: exactly reversible), so an
export imports back unchanged. Number cells and the properties cell (a JSON object,
which starts with `{`) are written as they are.
"""

import csv
import json
import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from itertools import chain
from typing import IO, Any, TextIO

from nps_service.responses.models import ANSWER_COLUMNS
from nps_service.survey import CONTEXT_FIELDS, DIMENSIONS
from nps_service.web.media import BOM
from nps_service.web.spreadsheet import ESCAPED_START, neutralise_cell, restore

# The columns, in the order `write_csv` writes them.
CSV_COLUMNS = ANSWER_COLUMNS
_INTEGER = re.compile(r"^[+-]?\d+$")
_CONVERTED = frozenset({"score", *DIMENSIONS, "weight", "properties"})
# A cell after the first that starts like a formula (or with the escaping quote).
_RISKY_CELL = tuple("," + start for start in ESCAPED_START)


class BadCsv(ValueError):
    """A CSV that does not follow the layout, at a line."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


def _csv_cell(column: str, cell: str) -> Any:
    """A CSV cell as the JSON value it stands for (validation decides if it is acceptable)."""
    if column in ("score", *DIMENSIONS):
        return int(cell) if _INTEGER.match(cell) else cell
    if column == "weight":
        try:
            return float(cell)
        except ValueError:
            return cell
    if column == "properties":
        try:
            return json.loads(cell)
        except ValueError:
            return cell
    return cell


def skip_bom(stream: Iterable[str]) -> Iterator[str]:
    """The lines of a text stream without a leading UTF-8 byte-order mark, which Excel
    writes and `GET /v1/responses/export?bom=true` too (a file opened with `utf-8-sig`
    has none left; a stream decoded as plain UTF-8 still starts with U+FEFF)."""
    lines = iter(stream)
    first = next(lines, None)
    return lines if first is None else chain((first.removeprefix(BOM),), lines)


def csv_bodies(stream: IO[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    reader = csv.reader(skip_bom(stream))
    header = next(reader, None)
    if header is None:
        return
    header = [name.strip() for name in header]
    unknown = [name for name in header if name not in CSV_COLUMNS]
    if unknown:
        raise BadCsv(
            1, f"unknown column(s) {', '.join(unknown)}; the columns are {', '.join(CSV_COLUMNS)}"
        )
    # Per column, once: which nested object it belongs to, and whether it needs converting.
    plan = [
        (
            index,
            name,
            "dimensions" if name in DIMENSIONS else "context" if name in CONTEXT_FIELDS else None,
            name in _CONVERTED,
        )
        for index, name in enumerate(header)
    ]
    width = len(header)
    line = reader.line_num + 1
    for cells in reader:
        if len(cells) != width:
            raise BadCsv(line, f"{len(cells)} cells, expected {width}")
        body: dict[str, Any] = {}
        for index, name, parent, converted in plan:
            cell = cells[index]
            if not cell:
                continue
            value = _csv_cell(name, cell) if converted else restore(cell)
            if parent is None:
                body[name] = value
            else:
                body.setdefault(parent, {})[name] = value
        yield line, body
        line = reader.line_num + 1


_EMPTY: dict[str, Any] = {}


def _cell_time(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _csv_quote(text: str) -> str:
    """What csv.writer (QUOTE_MINIMAL, lineterminator "\\n") makes of one text field, but
    a carriage return is quoted too (csv.writer leaves it bare, and readers end the row)."""
    if "," in text or '"' in text or "\n" in text or "\r" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def _csv_line(cells: Iterable[Any]) -> str:
    """One row: None is an empty cell, text is quoted where needed, numbers as str()."""
    return (
        ",".join(
            "" if cell is None else _csv_quote(cell if cell.__class__ is str else str(cell))
            for cell in cells
        )
        + "\n"
    )


_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class _PropertiesCell:
    """The quoted CSV cell of a properties object, cached: demo data repeats a few shapes."""

    def __init__(self, limit: int = 4096) -> None:
        self._cache: dict[tuple[Any, ...], str] = {}
        self._limit = limit

    def __call__(self, properties: dict[str, Any]) -> str:
        try:
            # The types too: True == 1 == 1.0 as keys, but they are written differently.
            key = (*properties.items(), *map(type, properties.values()))
            cell = self._cache.get(key)
        except TypeError:  # an unhashable value: not cacheable
            return _csv_quote(_dumps(properties))
        if cell is None:
            cell = _csv_quote(_dumps(properties))
            if len(self._cache) < self._limit:
                self._cache[key] = cell
        return cell


def write_csv(answers: Iterable[dict[str, Any]], out: TextIO, *, header: bool = True) -> int:
    """Write the documented import CSV (header CSV_COLUMNS); returns the rows written.

    Output is csv.writer's (QUOTE_MINIMAL, lineterminator "\\n"), except that a cell
    holding a carriage return is quoted (see `_csv_quote`). Rows whose cells need neither
    quoting nor neutralising (nearly all) are joined directly, which is several times
    faster; any other row is quoted and neutralised cell by cell.
    """
    write = out.write
    if header:
        write(",".join(CSV_COLUMNS) + "\n")
    quoted_properties = _PropertiesCell()
    rows = 0
    for a in answers:
        get = a.get
        d = get("dimensions") or _EMPTY
        c = get("context") or _EMPTY
        i, r, s = get("id"), a["respondent_id"], a["score"]
        dl, dp, ds, da = d.get("logistics"), d.get("product"), d.get("service"), d.get("app")
        t, m, k = get("comment"), c.get("merchant_id"), c.get("category")
        ch, g, pf, tp = c.get("channel"), c.get("region"), c.get("platform"), c.get("touchpoint")
        o, w, props, at = c.get("order_id"), get("weight"), get("properties"), get("submitted_at")
        if at.__class__ is not str:
            at = _cell_time(at)
        # 17 cells without the properties; csv.writer would write exactly this when no cell
        # holds a delimiter, a quote or a line break and none needs neutralising, which the
        # checks below prove.
        line = (
            f"{'' if i is None else i},{r},{s},{'' if dl is None else dl},"
            f"{'' if dp is None else dp},{'' if ds is None else ds},{'' if da is None else da},"
            f"{'' if t is None else t},{'' if m is None else m},{'' if k is None else k},"
            f"{'' if ch is None else ch},{'' if g is None else g},{'' if pf is None else pf},"
            f"{'' if tp is None else tp},{'' if o is None else o},{'' if w is None else w},"
            f"{'' if at is None else at}"
        )
        if (
            line.count(",") == 16
            and '"' not in line
            and "\n" not in line
            and "\r" not in line
            and line[:1] not in ESCAPED_START
            and not any(risky in line for risky in _RISKY_CELL)
        ):
            cut = line.rindex(",")
            p = quoted_properties(props) if props else ""
            write(f"{line[:cut]},{p}{line[cut:]}\n")
        else:
            text = (i, r), (t, m, k, ch, g, pf, tp, o)
            line = _csv_line(
                (
                    *map(neutralise_cell, text[0]),
                    s,
                    dl,
                    dp,
                    ds,
                    da,
                    *map(neutralise_cell, text[1]),
                    w,
                    _dumps(props) if props else None,
                    neutralise_cell(at),
                )
            )
            write(line)
        rows += 1
    return rows


def write_ndjson(answers: Iterable[dict[str, Any]], out: TextIO) -> int:
    """Write one compact JSON object per line; returns the lines written."""
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    write = out.write
    rows = 0
    for a in answers:
        write(dumps(a) + "\n")
        rows += 1
    return rows
