"""Read a CSV answer as a spreadsheet would, and compare it with its JSON twin.

The expected rows are the JSON body flattened here, independently of the service's
writers: nested members joined with `_` (`overall` + `nps` is `overall_nps`), with the
`key` and `dimensions` levels left out (`key.bucket` is `bucket`, `dimensions.app.n` is
`app_n`); lists are comma-separated names.
"""

import csv
import io
import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from tests.helpers import answer

BOM = b"\xef\xbb\xbf"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
PASS_THROUGH = ("key", "dimensions")  # levels the CSV columns leave out
DIMENSIONS = ("logistics", "product", "service", "app")
CATEGORIES = ("生鲜", "美妆", "-x")  # "-x" is text a spreadsheet would run as a formula


def flatten(value: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """A JSON object as {column: value}."""
    out: dict[str, Any] = {}
    for name, item in value.items():
        if name in PASS_THROUGH:
            out.update(flatten(item, prefix))
        elif isinstance(item, dict):
            out.update(flatten(item, f"{prefix}{name}_"))
        else:
            out[f"{prefix}{name}"] = item
    return out


def spreadsheet_rows(content: bytes) -> list[list[str]]:
    """Rows as a spreadsheet reads a UTF-8 CSV: a leading BOM means UTF-8 and is dropped."""
    text = content.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline="")))


def as_records(content: bytes) -> list[dict[str, str]]:
    header, *rows = spreadsheet_rows(content)
    assert len(set(header)) == len(header), "duplicate column names"
    for row in rows:
        assert len(row) == len(header), row
    return [dict(zip(header, row, strict=True)) for row in rows]


def unneutralise(cell: str) -> str:
    """A text cell as the text it stands for (one leading quote is the formula guard)."""
    return cell[1:] if cell.startswith("'") else cell


def assert_cell(cell: str, expected: Any, where: Any) -> None:
    """One CSV cell holds exactly the JSON value: numbers unrounded, null empty."""
    if expected is None:
        assert cell == "", (where, cell)
    elif isinstance(expected, bool):
        assert cell == ("true" if expected else "false"), (where, cell)
    elif isinstance(expected, int):
        assert cell == str(expected), (where, cell, expected)
    elif isinstance(expected, float):
        assert float(cell) == expected, (where, cell, expected)
    elif isinstance(expected, list):
        assert cell == ",".join(expected), (where, cell, expected)
    else:
        assert unneutralise(cell) == expected, (where, cell, expected)
        if expected[:1] in ("=", "+", "-", "@", "'"):
            assert cell == "'" + expected, (where, cell)


def assert_csv_matches(content: bytes, items: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Every row equals its JSON item, column for column, and the columns are exactly the
    item's flattened members. Returns the records."""
    records = as_records(content)
    assert len(records) == len(items)
    for record, item in zip(records, items, strict=True):
        expected = flatten(item)
        if expected.get("partial", False) is None:
            del expected["partial"]  # no buckets: no bucket columns
        assert set(record) == set(expected), set(record) ^ set(expected)
        for column, value in expected.items():
            assert_cell(record[column], value, (column, item.get("key")))
    return records


def get_ok(
    client: TestClient,
    path: str,
    headers: dict[str, str],
    params: Any = None,
    accept: str | None = None,
) -> Any:
    """A 200 answer."""
    request_headers = {**headers, **({"Accept": accept} if accept else {})}
    reply = client.get(path, headers=request_headers, params=params)
    assert reply.status_code == 200, (path, reply.text)
    return reply


def get_csv(
    client: TestClient, path: str, headers: dict[str, str], params: Any = None, **kw: Any
) -> bytes:
    """A CSV answer's bytes, after checking its headers and line ends (CRLF only)."""
    reply = get_ok(client, path, headers, params, **kw)
    assert reply.headers["content-type"] == CSV_CONTENT_TYPE
    assert reply.headers["content-disposition"].startswith("attachment; filename=")
    content: bytes = reply.content
    assert content.endswith(b"\r\n")
    assert b"\n" not in content.replace(b"\r\n", b""), "a bare LF"
    return content


def bi_answers(count: int = 90) -> list[dict[str, Any]]:
    """November 2026 in Shanghai: Chinese and formula-like tags, weights, missing ratings."""
    start = datetime(2026, 11, 1, 0, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    rng = random.Random(15)
    out = []
    for i in range(count):
        dimensions = {d: rng.randint(0, 10) for d in DIMENSIONS if rng.random() < 0.85}
        context = {
            "category": CATEGORIES[i % len(CATEGORIES)],
            "merchant_id": f"m_{i % 4}",
            "channel": "-live" if i % 5 == 0 else "search",
        }
        out.append(
            answer(
                rng.randint(0, 10),
                submitted_at=(start + timedelta(minutes=433 * i)).isoformat(),
                dimensions=dimensions,
                context=context,
                weight=rng.choice([0.5, 1, 2.5]),
            )
        )
    return out


def check_twins(
    client: TestClient,
    headers: dict[str, str],
    path: str,
    params: dict[str, str],
    items_of: Callable[[dict[str, Any]], list[dict[str, Any]]],
) -> bytes:
    """`path.csv` equals the JSON of `path` cell for cell; `format=csv`, `Accept: text/csv`
    on `path` give the same bytes; `bom=true` the same bytes after a BOM. Returns them."""
    body = get_ok(client, path, headers, params).json()
    content = get_csv(client, f"{path}.csv", headers, params)
    assert not content.startswith(BOM)
    assert_csv_matches(content, items_of(body))
    assert get_csv(client, path, headers, {**params, "format": "csv"}) == content
    assert get_csv(client, path, headers, params, accept="text/csv") == content
    with_bom = get_csv(client, f"{path}.csv", headers, {**params, "bom": "true"})
    assert with_bom == BOM + content
    assert get_csv(client, path, headers, {**params, "format": "csv", "bom": "true"}) == with_bom
    return content
