"""The `nps-service` command line: serve, migrate, manage keys, dump the OpenAPI document."""

import os
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer
import yaml
from sqlalchemy.engine import Engine

from nps_service.bi import GrantError, grant_reader
from nps_service.config import get_settings
from nps_service.db import create_db_engine, make_session_factory
from nps_service.keys import service as keys
from nps_service.keys.service import Scope
from nps_service.metrics import MULTIPROCESS
from nps_service.migrate import upgrade
from nps_service.responses.formats import write_csv, write_ndjson
from nps_service.responses.importer import (
    DEFAULT_CHUNK,
    ImportFailed,
    detect_format,
    import_answers,
    import_stream,
    open_counted,
)
from nps_service.responses.schemas import ResponseIn
from nps_service.rollups import fold_all, tidy_after_bulk

app = typer.Typer(
    help="nps-service: collect NPS answers and serve the global NPS.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
keys_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


def _migrated_engine() -> Engine:
    engine = create_db_engine(get_settings())
    upgrade(engine)
    return engine


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Server processes.")] = 1,
) -> None:
    """Apply pending migrations, then serve the API."""
    _migrated_engine().dispose()
    level = get_settings().log_level.lower()
    _fresh_metrics_directory()
    # A fresh interpreter runs the server (see nps_service/server.py): same process id, so
    # signals from a supervisor or container runtime still reach uvicorn.
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(  # noqa: S606 - our own interpreter and arguments, no shell
        sys.executable,
        [
            sys.executable,
            "-m",
            "nps_service.server",
            *("--host", host, "--port", str(port), "--workers", str(workers)),
            *("--log-level", level),
        ],
    )


def _fresh_metrics_directory() -> None:
    """Prometheus multiprocess mode: every worker writes its metrics to files in one
    directory that `/metrics` adds up. Files of an earlier run would count twice: the
    directory is emptied first (a new one when PROMETHEUS_MULTIPROC_DIR is not set)."""
    folder = os.environ.get(MULTIPROCESS)
    if not folder:
        os.environ[MULTIPROCESS] = tempfile.mkdtemp(prefix="nps-metrics-")
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    for stale in Path(folder).glob("*.db"):
        stale.unlink()


@app.command()
def migrate() -> None:
    """Apply pending migrations and exit."""
    _migrated_engine().dispose()
    typer.echo("database is at the newest schema", err=True)


@app.command("import")
def import_file(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV or NDJSON file.")],
    file_format: Annotated[
        str | None, typer.Option("--format", help="csv or ndjson (default: from the name).")
    ] = None,
    chunk_size: Annotated[int, typer.Option(min=1, help="Rows per write.")] = DEFAULT_CHUNK,
    fold: Annotated[bool, typer.Option(help="Fold the new answers into rollups after.")] = True,
) -> None:
    """Import answers, all or nothing; re-importing skips ids already stored."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    try:
        fmt = file_format or detect_format(path)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    if fmt not in ("csv", "ndjson"):
        raise typer.BadParameter("--format is csv or ndjson")
    engine = _migrated_engine()
    stream, counter = open_counted(path)
    columns = (TextColumn("importing"), BarColumn(), DownloadColumn(), TimeRemainingColumn())
    with stream, Progress(*columns, transient=True) as progress:
        task = progress.add_task("import", total=path.stat().st_size)
        try:
            result = import_stream(
                engine,
                stream,
                fmt,
                chunk_size=chunk_size,
                on_chunk=lambda _rows: progress.update(task, completed=counter.bytes_read),
            )
        except ImportFailed as exc:
            typer.echo(f"{path}: {exc}; nothing was imported", err=True)
            raise typer.Exit(1) from exc
    typer.echo(
        f"{path}: {result.rows} rows, {result.created} new, {result.duplicates} already stored",
        err=True,
    )
    if fold:
        folded = fold_all(engine)
        tidy_after_bulk(engine)
        typer.echo(f"folded {folded} answers into rollups", err=True)
    engine.dispose()


@app.command("demo-data")
def demo_data(
    count: Annotated[int, typer.Argument(min=1, help="How many answers.")],
    output: Annotated[
        Path | None,
        typer.Option(help="Write to this .csv or .ndjson file instead of the database."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Same seed, same answers (and ids).")] = 42,
    days: Annotated[int, typer.Option(min=1, help="Spread over this many days up to now.")] = 365,
) -> None:
    """Generate realistic answers: into the database (default) or to a file for `import`."""
    from nps_service.demo import DemoConfig, generate

    config = DemoConfig(count=count, seed=seed, days=days)
    if output is not None:
        try:
            fmt = detect_format(output)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from exc
        writer = write_csv if fmt == "csv" else write_ndjson
        with output.open("w", encoding="utf-8", newline="") as out:
            written = writer(generate(config), out)
        typer.echo(f"wrote {written} answers to {output}", err=True)
        return
    engine = _migrated_engine()
    answers = (
        (line, ResponseIn.model_validate(body))
        for line, body in enumerate(generate(config), start=1)
    )
    result = import_answers(engine, answers)
    typer.echo(
        f"stored {result.created} answers ({result.duplicates} were there already)", err=True
    )
    typer.echo(f"folded {fold_all(engine)} answers into rollups", err=True)
    tidy_after_bulk(engine)
    engine.dispose()


@app.command()
def rollup() -> None:
    """Fold every pending answer into the rollups now (servers also do this every second)."""
    engine = _migrated_engine()
    typer.echo(f"folded {fold_all(engine)} answers into rollups", err=True)
    tidy_after_bulk(engine)
    engine.dispose()


@app.command()
def openapi(
    output: Annotated[Path, typer.Option(help="Where to write the YAML document.")] = Path(
        "openapi.yaml"
    ),
) -> None:
    """Write the OpenAPI document generated from the app."""
    output.write_text(render_openapi(), encoding="utf-8")
    typer.echo(f"wrote {output}", err=True)


def render_openapi() -> str:
    """The app's OpenAPI document as YAML (the committed openapi.yaml must equal this)."""
    from nps_service.config import Settings
    from nps_service.main import create_app

    document = create_app(Settings(database_url="sqlite://")).openapi()
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="Who or what uses the key.")],
    scope: Annotated[list[Scope], typer.Option(help="ingest, read or admin; repeatable.")],
    merchant: Annotated[
        list[str] | None,
        typer.Option(help="Limit a read key to this merchant; repeatable."),
    ] = None,
) -> None:
    """Create a key and print its plaintext, alone, on stdout (it is not shown again)."""
    engine = _migrated_engine()
    with make_session_factory(engine)() as session:
        try:
            key, plaintext = keys.create_key(session, name, scope, merchant)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from exc
        session.commit()
        limited = f", merchants: {' '.join(key.merchants)}" if key.merchants else ""
        typer.echo(f"created key {key.id} ({key.name}, scopes: {key.scopes}{limited})", err=True)
    engine.dispose()
    typer.echo(plaintext)


@keys_app.command("list")
def keys_list() -> None:
    """List keys (never their secrets)."""
    engine = _migrated_engine()
    with make_session_factory(engine)() as session:
        typer.echo("id\tname\tprefix\tscopes\tmerchants\tcreated_at\trevoked_at")
        for key in keys.list_keys(session):
            revoked = key.revoked_at.isoformat() if key.revoked_at else "-"
            typer.echo(
                f"{key.id}\t{key.name}\t{key.prefix}…\t{key.scopes}\t"
                f"{' '.join(key.merchants) if key.merchants else '-'}\t"
                f"{key.created_at.isoformat()}\t{revoked}"
            )
    engine.dispose()


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[int, typer.Argument(help="The id shown by `keys list`.")],
) -> None:
    """Revoke a key; requests using it get 401 from then on."""
    engine = _migrated_engine()
    with make_session_factory(engine)() as session:
        key = keys.revoke_key(session, key_id)
        session.commit()
    engine.dispose()
    if key is None:
        typer.echo(f"no key with id {key_id}", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked key {key_id} ({key.name})", err=True)


bi_app = typer.Typer(
    help="The read-only SQL views for BI tools (PostgreSQL).", no_args_is_help=True
)
app.add_typer(bi_app, name="bi")


@bi_app.command("grant")
def bi_grant(
    login: Annotated[str, typer.Option(help="The BI tool's existing database login role.")],
) -> None:
    """Let a login read the nps_bi views, and nothing else, as a member of nps_bi_reader."""
    engine = _migrated_engine()
    try:
        notes = grant_reader(engine, login)
    except GrantError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    for note in notes:
        typer.echo(note, err=True)
