"""A read-only SQL surface for BI tools (Metabase, Superset): schema `nps_bi`, its views and
the role `nps_bi_reader`. PostgreSQL only: on SQLite this migration does nothing.

Views (each column is commented, so BI tools that sync comments show them):

- `daily_scores_utc`, `daily_scores_china`: one row per day and segment (UTC days, or
  China days at a fixed UTC+08:00 like the rollups' `day+08:00` level), with every class
  count, weight sum and derived score. Read from the day-level rollup slots (levels 2 and
  3) plus the answers still in `pending_rollup`, exactly as the score engine adds them up,
  so they equal a scan of the answers and never read `responses`.
- `merchants`: one row per (merchant, category) with answers: all-time counts and scores
  (weekly merchant slots plus the pending answers) and the first and last answer's time
  (two index probes of `responses` per row, only when those columns are read).
- `responses`: every answer without its personal or free-form fields (no respondent_id,
  comment, order_id, properties, display_id; nor the internal content_hash and
  submitted_at_given).

Segments are the rollup grains (`nps_service.rollups.grains`, copied below as frozen
history): a view branch per grain and per present/absent combination of its tags, so a
filter on `segment` or a tag reaches the rollups' primary key (absent tags are NULL in the
views and '' in the rollups, and NULLIF would hide the index from the planner).

The role is NOLOGIN; it gets USAGE on the schema and SELECT on the views, nothing else.
Views run with their owner's rights (no security_invoker), so the role reads the views
and cannot read a table. It is created if the migrating user may create roles (else a
warning is logged and an administrator creates it; `nps-service bi grant` applies the
grants again), and dropped on downgrade only when this migration created it and no
database of the cluster still grants it anything.

A later migration that changes a column these views read must drop and recreate them
(PostgreSQL refuses to alter a column a view depends on).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

# Every SQL text below is built from this module's constants: nothing user-supplied.
# ruff: noqa: S608

import logging
from collections.abc import Sequence
from itertools import product

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

logger = logging.getLogger("alembic.runtime.migration")

SCHEMA = "nps_bi"
ROLE = "nps_bi_reader"
ROLE_COMMENT = "nps-service: reads the BI views of schema nps_bi (created by migration 0010)"
# Rollup key columns, in primary-key order; '' stands for an absent tag.
FIELDS = ("merchant_id", "category", "channel", "region", "platform", "touchpoint")
METRICS = ("overall", "logistics", "product", "service", "app")
CLASSES = ("promoters", "passives", "detractors")
CLASS_TEST = {"promoters": ">= 9", "passives": "BETWEEN 7 AND 8", "detractors": "<= 6"}
SOURCE = {"overall": "score", **{m: m for m in METRICS[1:]}}
# (segment name, rollup grain id, its tags) as `rollups.grains.GRAINS` defines them.
SEGMENTS = (
    ("all", 0, ()),
    ("platform", 1, ("platform",)),
    ("touchpoint", 2, ("touchpoint",)),
    ("channel", 3, ("channel",)),
    ("category", 4, ("category",)),
    ("region", 5, ("region",)),
    ("merchant", 6, ("merchant_id", "category")),
)
MERCHANT_GRAIN = 6
# (view, rollup level id, where its slots start as `rollups.slots.slot_sql` bins them,
# the slot start's local date).
DAY_VIEWS = (
    (
        "daily_scores_utc",
        2,
        "2000-01-01T00:00:00+00:00",
        "(s.slot_start AT TIME ZONE 'UTC')::date",
        "UTC",
    ),
    (
        "daily_scores_china",
        3,
        "1999-12-31T16:00:00+00:00",
        "((s.slot_start AT TIME ZONE 'UTC') + INTERVAL '8 hours')::date",
        "China time (fixed UTC+08:00)",
    ),
)
WEEK_LEVEL = 4  # UTC weeks: the merchant grain's coarsest slots, for all-time sums
TAG = "varchar(64)"


def _sum_columns() -> list[str]:
    columns = []
    for metric in METRICS:
        columns += [f"{metric}_{k}" for k in CLASSES]
        columns += [f"{metric}_w_{k}" for k in CLASSES]
        columns.append(f"{metric}_w_squares")
    return columns


SUMS = _sum_columns()


def _pending_terms() -> list[str]:
    """One pending answer's share of each sum, as the fold adds it (NULL rating: none)."""
    terms = []
    for metric in METRICS:
        column = f"p.{SOURCE[metric]}"
        terms += [f"CASE WHEN {column} {CLASS_TEST[k]} THEN 1 ELSE 0 END" for k in CLASSES]
        terms += [f"CASE WHEN {column} {CLASS_TEST[k]} THEN p.weight ELSE 0 END" for k in CLASSES]
        terms.append(f"CASE WHEN {column} IS NOT NULL THEN p.weight * p.weight ELSE 0 END")
    return terms


def _branch(
    segment: str,
    grain: int,
    level: int,
    present: tuple[str, ...],
    absent: tuple[str, ...],
    slot: str | None,
) -> str:
    """One grain's rows whose `present` tags are set and `absent` ones are not: its rollup
    slots at `level` plus the pending answers, added up per (tags, slot); `slot` bins a
    pending answer's time (None: no slot column, all time)."""
    rollup_where = [f"r.grain = {grain}", f"r.level = {level}"]
    rollup_where += [f"r.{f} <> ''" for f in present]
    rollup_where += [f"r.{f} = ''" for f in FIELDS if f not in present]
    pending_where = [f"COALESCE(p.{f}, '') <> ''" for f in present]
    pending_where += [f"COALESCE(p.{f}, '') = ''" for f in absent] or ["true"]
    keys = list(present) + (["slot_start"] if slot else [])
    rollup_keys = [f"r.{f}" for f in present] + (["r.slot_start"] if slot else [])
    pending_keys = [f"p.{f}" for f in present] + ([f"{slot} AS slot_start"] if slot else [])
    rollup_sums = [f"r.{c}" for c in SUMS]
    pending_sums = [f"{term} AS {c}" for term, c in zip(_pending_terms(), SUMS, strict=True)]
    tags = [f"a.{f}" if f in present else f"CAST(NULL AS {TAG}) AS {f}" for f in FIELDS]
    grouped = ", ".join(f"a.{k}" for k in keys)
    return (
        f"SELECT CAST('{segment}' AS text) AS segment, {', '.join(tags)}, "
        + ("a.slot_start, " if slot else "")
        + ", ".join(f"SUM(a.{c}) AS {c}" for c in SUMS)
        + " FROM ("
        + f"SELECT {', '.join([*rollup_keys, *rollup_sums])} FROM rollups r "
        + f"WHERE {' AND '.join(rollup_where)} "
        + "UNION ALL "
        + f"SELECT {', '.join([*pending_keys, *pending_sums])} FROM pending_rollup p "
        + f"WHERE {' AND '.join(pending_where)}"
        + ") a"
        + (f" GROUP BY {grouped}" if grouped else "")
    )


def _branches(
    segments: Sequence[tuple[str, int, tuple[str, ...]]],
    level: int,
    slot: str | None,
    required: tuple[str, ...] = (),
) -> list[tuple[tuple[str, ...], str]]:
    """Every segment, split by which of its tags are present (see the module docstring):
    (present tags, branch); combinations without a `required` tag are left out."""
    branches = []
    for segment, grain, tags in segments:
        for flags in product((True, False), repeat=len(tags)):
            present = tuple(t for t, on in zip(tags, flags, strict=True) if on)
            absent = tuple(t for t, on in zip(tags, flags, strict=True) if not on)
            if set(required) <= set(present):
                branches.append((present, _branch(segment, grain, level, present, absent, slot)))
    return branches


def _scores() -> list[tuple[str, str, str]]:
    """(column, expression over the sums `s`, comment) of every score column."""
    columns = []
    for metric in METRICS:
        what = "the overall question" if metric == "overall" else f"the {metric} rating"
        p, pa, d = (f"s.{metric}_{k}" for k in CLASSES)
        wp, wpa, wd = (f"s.{metric}_w_{k}" for k in CLASSES)
        n, w = f"({p} + {pa} + {d})", f"({wp} + {wpa} + {wd})"
        columns += [
            (f"{metric}_n", n, f"Answers to {what} (promoters + passives + detractors)."),
            (f"{metric}_promoters", p, f"Answers 9-10 to {what}."),
            (f"{metric}_passives", pa, f"Answers 7-8 to {what}."),
            (f"{metric}_detractors", d, f"Answers 0-6 to {what}."),
            (
                f"{metric}_nps",
                f"CASE WHEN {n} > 0 THEN 100.0::float8 * ({p} - {d}) / {n} END",
                f"NPS of {what}, -100..100, unrounded; NULL without answers. Not additive: "
                "to combine rows, sum the counts and compute 100 * (promoters - detractors) / n.",
            ),
            (f"{metric}_w_promoters", wp, f"Sum of the weights of {metric}_promoters."),
            (f"{metric}_w_passives", wpa, f"Sum of the weights of {metric}_passives."),
            (f"{metric}_w_detractors", wd, f"Sum of the weights of {metric}_detractors."),
            (
                f"{metric}_w_squares",
                f"s.{metric}_w_squares",
                f"Sum of the squared weights of the answers to {what} (Kish's effective n).",
            ),
            (
                f"{metric}_nps_weighted",
                f"CASE WHEN {n} > 0 THEN 100.0::float8 * ({wp} - {wd}) / NULLIF({w}, 0) END",
                f"Weighted NPS of {what} (survey weights); NULL without answers.",
            ),
            (
                f"{metric}_effective_n",
                f"CASE WHEN {n} > 0 THEN {w} * {w} / NULLIF(s.{metric}_w_squares, 0) END",
                "Kish's effective sample size: (sum of weights)^2 / sum of squared weights.",
            ),
        ]
    return columns


TAG_COMMENTS = {
    "segment": "Which tags the row is grouped by: all, platform, touchpoint, channel, "
    "category, region or merchant (merchant_id and category). Filter on one segment: "
    "rows of different segments count the same answers again.",
    **{
        f: f"The answers' {f} in segments grouped by it; NULL for answers without one and "
        "in segments not grouped by it."
        for f in FIELDS
    },
}


def _daily_view(name: str, level: int, origin: str, day: str, zone: str) -> str:
    slot = f"date_bin('86400 seconds', p.submitted_at, TIMESTAMPTZ '{origin}')"
    union = " UNION ALL ".join(branch for _, branch in _branches(SEGMENTS, level, slot))
    columns = [f"{day} AS day", "s.slot_start AS day_start", "s.segment"]
    columns += [f"s.{f}" for f in FIELDS]
    columns += [f"{expr} AS {column}" for column, expr, _ in _scores()]
    return (
        f"CREATE VIEW {SCHEMA}.{name} AS SELECT {', '.join(columns)} FROM ({union}) s "
        "WHERE s.overall_promoters + s.overall_passives + s.overall_detractors > 0"
    )


def _merchants_view() -> str:
    merchant = [s for s in SEGMENTS if s[1] == MERCHANT_GRAIN]
    # Answers without a merchant are not a merchant: only branches with merchant_id set.
    # Each branch knows whether its category is set, so the first and last answer are
    # found by walking the merchant's answers in index order (ix_responses_merchant_id_
    # submitted_at) to the first of that category; the planner skips the walk when the
    # columns are not read.
    arms = []
    for present, branch in _branches(merchant, WEEK_LEVEL, None, required=("merchant_id",)):
        category = "x.category = b.category" if "category" in present else "x.category IS NULL"
        probe = (
            "(SELECT x.submitted_at FROM responses x "
            f"WHERE x.merchant_id = b.merchant_id AND {category} "
            "ORDER BY x.merchant_id {o}, x.submitted_at {o} LIMIT 1)"
        )
        arms.append(
            f"SELECT b.*, {probe.format(o='ASC')} AS first_answer_at, "
            f"{probe.format(o='DESC')} AS last_answer_at FROM ({branch}) b"
        )
    columns = ["s.merchant_id", "s.category", "s.first_answer_at", "s.last_answer_at"]
    columns += [f"{expr} AS {column}" for column, expr, _ in _scores()]
    return (
        f"CREATE VIEW {SCHEMA}.merchants AS SELECT {', '.join(columns)} "
        f"FROM ({' UNION ALL '.join(arms)}) s "
        "WHERE s.overall_promoters + s.overall_passives + s.overall_detractors > 0"
    )


CLASS_OF_SCORE = (
    "CASE WHEN r.score >= 9 THEN 'promoter' WHEN r.score >= 7 THEN 'passive' ELSE 'detractor' END"
)
POINTS_OF_SCORE = "CASE WHEN r.score >= 9 THEN 100 WHEN r.score >= 7 THEN 0 ELSE -100 END"
# (column, expression, comment) of nps_bi.responses: nothing that names or describes a person.
RESPONSE_COLUMNS = (
    ("id", "r.id", "The answer's id (a UUID)."),
    ("submitted_at", "r.submitted_at", "When it was answered. Indexed: filter on this."),
    ("day_utc", "(r.submitted_at AT TIME ZONE 'UTC')::date", "UTC date of submitted_at."),
    (
        "day_china",
        "((r.submitted_at AT TIME ZONE 'UTC') + INTERVAL '8 hours')::date",
        "China date (fixed UTC+08:00) of submitted_at.",
    ),
    ("score", "r.score", "The overall 0-10 answer."),
    ("nps_class", CLASS_OF_SCORE, "promoter (9-10), passive (7-8) or detractor (0-6)."),
    (
        "nps_points",
        POINTS_OF_SCORE,
        "100, 0 or -100: the average over any set of answers is their NPS.",
    ),
    *((d, f"r.{d}", f"The 0-10 {d} rating; NULL when not rated.") for d in METRICS[1:]),
    *((f, f"r.{f}", f"The {f} tag; NULL when absent.") for f in FIELDS),
    ("weight", "r.weight", "Survey weight (> 0, default 1)."),
    ("received_at", "r.received_at", "When the service stored it."),
)


def _responses_view() -> str:
    columns = ", ".join(f"{expr} AS {name}" for name, expr, _ in RESPONSE_COLUMNS)
    return f"CREATE VIEW {SCHEMA}.responses AS SELECT {columns} FROM responses r"


def _comment(target: str, text: str) -> str:
    return f"COMMENT ON {target} IS '{text.replace(chr(39), chr(39) * 2)}'"


def _comments() -> list[str]:
    statements = []
    score_comments = [(column, comment) for column, _, comment in _scores()]
    for name, _, _, _, zone in DAY_VIEWS:
        statements.append(
            _comment(
                f"VIEW {SCHEMA}.{name}",
                f"NPS per {zone} day and segment, exact and as fresh as the last stored "
                "answer (rollups plus the answers not folded yet). Filter on day_start "
                "(indexed) rather than day over long histories.",
            )
        )
        day_comments = [
            ("day", f"The {zone} date."),
            ("day_start", f"When the {zone} day starts (an instant). Indexed."),
            *TAG_COMMENTS.items(),
            *score_comments,
        ]
        statements += [_comment(f"COLUMN {SCHEMA}.{name}.{c}", t) for c, t in day_comments]
    statements.append(
        _comment(
            f"VIEW {SCHEMA}.merchants",
            "Each merchant with answers, once per category it was answered in: all-time "
            "counts and scores, first and last answer.",
        )
    )
    merchant_comments = [
        ("merchant_id", "The merchant."),
        ("category", "The answers' category; NULL for answers without one."),
        ("first_answer_at", "The earliest submitted_at of these answers."),
        ("last_answer_at", "The latest submitted_at of these answers."),
        *score_comments,
    ]
    statements += [_comment(f"COLUMN {SCHEMA}.merchants.{c}", t) for c, t in merchant_comments]
    statements.append(
        _comment(
            f"VIEW {SCHEMA}.responses",
            "Every stored answer without personal or free-form fields (no respondent_id, "
            "comment, order_id, properties, display_id).",
        )
    )
    statements += [
        _comment(f"COLUMN {SCHEMA}.responses.{name}", text) for name, _, text in RESPONSE_COLUMNS
    ]
    return statements


VIEWS = (*(view[0] for view in DAY_VIEWS), "merchants", "responses")


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return  # SQLite: no schemas, no roles; BI tools read PostgreSQL deployments
    op.execute(f"CREATE SCHEMA {SCHEMA}")
    for view in DAY_VIEWS:
        op.execute(_daily_view(*view))
    op.execute(_merchants_view())
    op.execute(_responses_view())
    for statement in _comments():
        op.execute(statement)
    _create_role(bind)
    if _role_exists(bind):
        op.execute(f"GRANT USAGE ON SCHEMA {SCHEMA} TO {ROLE}")
        op.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA {SCHEMA} TO {ROLE}")


def _role_exists(bind: sa.engine.Connection) -> bool:
    found = bind.scalar(
        sa.text("SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = :r"), {"r": ROLE}
    )
    return found is not None


def _create_role(bind: sa.engine.Connection) -> None:
    if _role_exists(bind):
        return
    may = bind.scalar(
        sa.text(
            "SELECT rolsuper OR rolcreaterole FROM pg_catalog.pg_roles WHERE rolname = current_user"
        )
    )
    if not may:
        logger.warning(
            "role %s not created: the migrating user may not create roles. As an administrator: "
            "CREATE ROLE %s NOLOGIN; then run `nps-service bi grant --login <bi user>`",
            ROLE,
            ROLE,
        )
        return
    # Databases of one cluster share roles: another one's migration may create it first.
    op.execute(
        "DO $$ BEGIN "
        f"CREATE ROLE {ROLE} NOLOGIN; "
        f"{_comment(f'ROLE {ROLE}', ROLE_COMMENT)}; "
        "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; "
        "END $$"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for view in VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {SCHEMA}.{view}")
    # Not CASCADE: whatever else someone put in the schema stops the downgrade, loudly.
    op.execute(f"DROP SCHEMA IF EXISTS {SCHEMA}")
    # Only a role this migration created, and only when no database still uses it (other
    # databases of the cluster may); its memberships go with it.
    op.execute(
        "DO $$ BEGIN "
        "IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles "
        f"WHERE rolname = '{ROLE}' "
        f"AND shobj_description(oid, 'pg_authid') = '{ROLE_COMMENT}') THEN "
        f"DROP ROLE {ROLE}; "
        "END IF; "
        "EXCEPTION WHEN dependent_objects_still_exist OR insufficient_privilege THEN "
        f"RAISE NOTICE '{ROLE} kept: %', SQLERRM; "
        "END $$"
    )
