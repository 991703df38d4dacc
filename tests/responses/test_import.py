"""`nps-service import`: all or nothing, idempotent by id, bad rows named by line."""

import io
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from nps_service.config import Settings
from nps_service.db import create_db_engine
from nps_service.responses.formats import CSV_COLUMNS
from nps_service.responses.importer import ImportFailed, import_stream
from nps_service.responses.models import PendingRollup, Response

HEADER = ",".join(CSV_COLUMNS)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = create_db_engine(settings)
    yield engine
    engine.dispose()


def count(engine: Engine, model: type = Response) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def csv_row(score: int | str, **cells: str) -> str:
    values = {"id": str(uuid.uuid4()), "respondent_id": "u", "score": str(score), **cells}
    return ",".join(values.get(column, "") for column in CSV_COLUMNS)


def run(engine: Engine, content: str, fmt: str, chunk_size: int = 3) -> tuple[int, int, int]:
    result = import_stream(engine, io.StringIO(content), fmt, chunk_size=chunk_size)
    return result.rows, result.created, result.duplicates


def test_csv_import_stores_every_field(engine: Engine) -> None:
    answer_id = str(uuid.uuid4())
    line = csv_row(
        9,
        id=answer_id,
        logistics="8",
        app="10",
        comment='"late, ""but"" ok"',
        merchant_id="m_1",
        category="美妆",
        weight="2.5",
        properties='"{""vip"": true, ""n"": 3}"',
        submitted_at="2026-11-20T10:00:00+08:00",
    )
    assert run(engine, f"{HEADER}\n{line}\n", "csv") == (1, 1, 0)
    with Session(engine) as session:
        stored = session.get(Response, uuid.UUID(answer_id))
    assert stored is not None
    assert (stored.score, stored.logistics, stored.product, stored.app) == (9, 8, None, 10)
    assert stored.comment == 'late, "but" ok'
    assert (stored.merchant_id, stored.category, stored.channel) == ("m_1", "美妆", None)
    assert stored.weight == 2.5
    assert stored.properties == {"vip": True, "n": 3}
    assert stored.submitted_at.isoformat() == "2026-11-20T02:00:00+00:00"
    assert count(engine, PendingRollup) == 1  # queued for the rollups like any answer


def test_reimport_is_idempotent_across_chunks(engine: Engine) -> None:
    lines = [csv_row(i % 11) for i in range(10)]
    content = HEADER + "\n" + "\n".join(lines) + "\n"
    assert run(engine, content, "csv", chunk_size=3) == (10, 10, 0)
    assert run(engine, content, "csv", chunk_size=4) == (10, 0, 10)
    assert count(engine) == 10


def test_same_row_twice_in_a_file_is_stored_once(engine: Engine) -> None:
    line = csv_row(7)
    assert run(engine, f"{HEADER}\n{line}\n{csv_row(1)}\n{line}\n", "csv", chunk_size=2) == (
        3,
        2,
        1,
    )
    assert count(engine) == 2


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (csv_row("9.5"), "/score"),
        (csv_row(11), "/score"),
        (csv_row(5, channel="live stream"), "/context/channel"),
        (csv_row(5, weight="0"), "/weight"),
        (csv_row(5, properties='"{""x"": [1]}"'), "/properties/x"),
        (csv_row(5, submitted_at="2026-11-20T10:00:00"), "/submitted_at"),
        (csv_row(5, id="not-a-uuid"), "/id"),
        (csv_row(5, respondent_id=""), "/respondent_id"),
        ("a,b,c", "cells"),
    ],
)
def test_a_bad_row_rolls_back_the_whole_file(engine: Engine, bad: str, reason: str) -> None:
    good = [csv_row(9) for _ in range(7)]
    content = "\n".join([HEADER, *good, bad, csv_row(3)]) + "\n"
    with pytest.raises(ImportFailed) as failure:
        run(engine, content, "csv", chunk_size=2)  # chunks before the bad row were written
    assert failure.value.line == 9  # header is line 1, then 7 good rows
    assert reason in failure.value.reason
    assert count(engine) == 0
    assert count(engine, PendingRollup) == 0


def test_line_numbers_count_multiline_cells(engine: Engine) -> None:
    content = "\n".join([HEADER, csv_row(9, comment='"two\nlines"'), csv_row(42)]) + "\n"
    with pytest.raises(ImportFailed) as failure:
        run(engine, content, "csv")
    assert failure.value.line == 4


def test_unknown_column_is_reported(engine: Engine) -> None:
    with pytest.raises(ImportFailed) as failure:
        run(engine, "respondent_id,score,colour\nu,9,red\n", "csv")
    assert failure.value.line == 1
    assert "colour" in failure.value.reason


def test_id_reused_for_different_content_fails(engine: Engine) -> None:
    answer_id = str(uuid.uuid4())
    run(engine, f"{HEADER}\n{csv_row(9, id=answer_id)}\n", "csv")
    with pytest.raises(ImportFailed) as failure:
        run(engine, f"{HEADER}\n{csv_row(1)}\n{csv_row(8, id=answer_id)}\n", "csv")
    assert failure.value.line == 3
    assert count(engine) == 1


def test_ndjson_import(engine: Engine) -> None:
    bodies = [
        {
            "id": str(uuid.uuid4()),
            "respondent_id": "u",
            "score": s,
            "dimensions": {"service": 10 - s},
            "context": {"category": "food"},
        }
        for s in range(11)
    ]
    content = "\n".join(json.dumps(b) for b in bodies) + "\n\n"
    assert run(engine, content, "ndjson") == (11, 11, 0)
    bad = content + json.dumps({"respondent_id": "u", "score": True}) + "\n"
    with pytest.raises(ImportFailed) as failure:
        run(engine, bad, "ndjson")
    assert failure.value.line == 13  # 11 rows, one blank line, then the bad one
    assert count(engine) == 11


@pytest.mark.slow
def test_cli_import_then_scores_are_exact(database_url: str, tmp_path: Path) -> None:
    path = tmp_path / "answers.csv"
    scores = [10, 9, 9, 8, 7, 6, 5, 0, 10, 3]
    path.write_text(HEADER + "\n" + "\n".join(csv_row(s) for s in scores) + "\n")
    env = {**os.environ, "NPS_DATABASE_URL": database_url}
    command = [sys.executable, "-m", "nps_service", "import", str(path)]
    first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    assert "10 rows, 10 new, 0 already stored" in first.stderr
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert "10 rows, 0 new, 10 already stored" in again.stderr
    broken = tmp_path / "broken.csv"
    broken.write_text(HEADER + "\n" + csv_row(9) + "\n" + csv_row(99) + "\n")
    failed = subprocess.run(
        [*command[:-1], str(broken)], env=env, capture_output=True, text=True, timeout=120
    )
    assert failed.returncode == 1
    assert "line 3" in failed.stderr
    assert "nothing was imported" in failed.stderr
