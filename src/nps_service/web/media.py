"""Media types the API speaks besides JSON, how a client asks for them, and CSV responses.

Every CSV the service writes for spreadsheets and BI tools is UTF-8 with CRLF line ends
(RFC 4180), served as `text/csv; charset=utf-8` with a file name; `bom=true` puts a UTF-8
byte-order mark first, without which Excel reads UTF-8 as the local code page (on a
Chinese Windows `生鲜` becomes `鐢熼矞`).
"""

from typing import Annotated, Literal

from fastapi import Query, Request
from fastapi.responses import Response

from nps_service.errors import FieldError, InvalidInput
from nps_service.web.openapi import problems

CSV_MEDIA_TYPE = "text/csv"
JSON_MEDIA_TYPE = "application/json"
NDJSON_MEDIA_TYPE = "application/x-ndjson"
CSV_CONTENT_TYPE = f"{CSV_MEDIA_TYPE}; charset=utf-8"
BOM = "\ufeff"  # written as EF BB BF

BOM_HELP = (
    "Start the CSV with a UTF-8 byte-order mark (EF BB BF), so that Excel reads it as UTF-8 "
    "(without it, Excel on a Chinese Windows shows `生鲜` as `鐢熼矞`). Off by default: "
    "most other tools read UTF-8 without it. `bom=true` with a JSON or NDJSON answer is a 422."
)
Bom = Annotated[bool, Query(description=BOM_HELP)]
# The JSON operations also answer CSV (`format=csv`, `Accept: text/csv`), as API.md says for
# /v1/scores; their documents declare JSON only, so these two parameters are left out of
# them (the `.csv` operations document the CSV and its `bom`).
HiddenFormat = Annotated[Literal["json", "csv"] | None, Query(include_in_schema=False)]
HiddenBom = Annotated[bool, Query(include_in_schema=False)]


class CsvResponse(Response):
    """A CSV body; as a route's `response_class`, the 200 is documented as text/csv."""

    media_type = CSV_MEDIA_TYPE


def csv_response(text: str, filename: str, *, bom: bool = False) -> CsvResponse:
    """`text` as a CSV download: UTF-8, a BOM first when asked."""
    return CsvResponse(
        ((BOM if bom else "") + text).encode(),
        media_type=CSV_CONTENT_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def reject_bom(bom: bool, answer: str = "JSON") -> None:
    """A 422 for `bom=true` on an answer that is not CSV (a BOM would break its parsers)."""
    if bom:
        detail = f"bom applies only to CSV; this answer is {answer} (ask for format=csv)"
        raise InvalidInput(detail, errors=[FieldError(parameter="bom", detail=detail)])


def media_ranges(accept: str) -> list[tuple[str, str, float]]:
    """The ranges of an Accept header as (type, subtype, q), lower case; malformed ones
    (no `/`, a bad q) are left out."""
    ranges = []
    for item in accept.split(","):
        media, *parameters = item.split(";")
        kind, slash, sub = media.strip().lower().partition("/")
        if not slash or not kind or not sub:
            continue
        q = 1.0
        for parameter in parameters:
            name, _, value = parameter.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = -1.0
        if 0.0 <= q <= 1.0:
            ranges.append((kind, sub.strip(), q))
    return ranges


def quality(
    ranges: list[tuple[str, str, float]], media_type: str, *, wildcard: bool = True
) -> float:
    """The q the most specific matching range gives `media_type` (0 when none matches).

    Without `wildcard`, `*/*` does not count: only ranges that name the type itself or
    its top-level type (`text/*`).
    """
    kind, _, sub = media_type.partition("/")
    best, found = -1, 0.0
    for range_kind, range_sub, q in ranges:
        if (range_kind, range_sub) == (kind, sub):
            specificity = 2
        elif range_kind == kind and range_sub == "*":
            specificity = 1
        elif wildcard and (range_kind, range_sub) == ("*", "*"):
            specificity = 0
        else:
            continue
        if specificity > best:
            best, found = specificity, q
    return found


def wants_csv(request: Request, fmt: str | None, *, json_wins: bool = True) -> bool:
    """`format=csv`, or else an Accept header that names text/csv (or `text/*`).

    With `json_wins`, CSV only when the header prefers it to application/json (a higher q;
    `text/csv, application/json` gets JSON). `*/*` asks for neither: it gets the default.
    """
    if fmt is not None:
        return fmt == "csv"
    ranges = media_ranges(",".join(request.headers.getlist("accept")))
    csv_q = quality(ranges, CSV_MEDIA_TYPE, wildcard=False)
    if csv_q <= 0:
        return False
    return not json_wins or csv_q > quality(ranges, JSON_MEDIA_TYPE, wildcard=False)


def csv_ok(description: str) -> dict[int | str, dict[str, object]]:
    """The `responses=` entry of an operation whose 200 is a CSV file."""
    return {200: {"description": description, "content": {CSV_MEDIA_TYPE: {"schema": CSV_SCHEMA}}}}


CSV_SCHEMA = {"type": "string", "description": "CSV (RFC 4180), UTF-8, CRLF line ends."}


def csv_description(columns: str, json_path: str) -> str:
    """The description of a `.csv` operation: its columns, and its JSON twin."""
    return (
        f"{columns}\n\nThe JSON operation `GET {json_path}` answers this same CSV for "
        "`format=csv` or `Accept: text/csv` (API.md); this operation declares only the CSV, "
        "so a generated client gets a string here and a typed body there. `bom=true` puts a "
        "UTF-8 byte-order mark first, for Excel."
    )


def csv_problems(*statuses: int) -> dict[int | str, dict[str, object]]:
    """`problems(...)` for an operation whose 200 is CSV: each declared as problem+json
    only (with a `model`, FastAPI would also list it under the route's text/csv)."""
    return {
        status: {name: value for name, value in entry.items() if name != "model"}
        for status, entry in problems(*statuses).items()
    }
