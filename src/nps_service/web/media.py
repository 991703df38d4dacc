"""Media types the API speaks besides JSON, and how a client asks for them."""

from fastapi import Request

CSV_MEDIA_TYPE = "text/csv"
NDJSON_MEDIA_TYPE = "application/x-ndjson"


def wants_csv(request: Request, fmt: str | None, *, json_wins: bool = True) -> bool:
    """`format=csv`, or else an Accept header naming text/csv.

    With `json_wins`, an Accept header that also names application/json gets JSON.
    """
    if fmt is not None:
        return fmt == "csv"
    accept = request.headers.get("accept", "")
    return CSV_MEDIA_TYPE in accept and not (json_wins and "application/json" in accept)
