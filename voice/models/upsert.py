"""One statement that creates a mirror row or moves it on: INSERT ... ON CONFLICT DO UPDATE,
with a rule per column for a row that exists, RETURNING the row, and whether this
statement created it or changed it.

Why one statement: a webhook's whole cost is its statements (a read, a savepoint, an insert,
an update, a second read ... were fourteen per webhook). The conflict clause also settles a
race between two webhooks creating the same row, and locks the row for the rest of the
transaction (PostgreSQL), as select_for_update did; SQLite's transactions here take the
write lock when they begin. Both databases speak this dialect (SQLite since 3.35; IS
DISTINCT FROM since 3.39).

A rule says how a column of an existing row takes the new value: always, only where the
row has none, only from an event newer than the row's newest, as a state machine allows,
or as the earliest or latest of the two. Values are prepared by the model's own fields, as
the ORM would, so that SQLite's text dates compare as the ORM's do.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import connection, models
from django.utils import timezone

M = TypeVar("M", bound=models.Model)
# Renders a value as a parameter of the statement, prepared for the column `field`.
Param = Callable[[Any, models.Field], str]


class Row:
    """The row that exists, as the ON CONFLICT clause names its columns."""

    def __init__(self, model: type[models.Model]) -> None:
        self.model = model
        self.table = connection.ops.quote_name(model._meta.db_table)

    def field(self, name: str) -> models.Field:
        return self.model._meta.get_field(name)

    def column(self, name: str) -> str:
        return f"{self.table}.{connection.ops.quote_name(self.field(name).column)}"

    def empty(self, name: str) -> str:
        column = self.column(name)
        if isinstance(self.field(name), (models.CharField, models.TextField)):
            return f"({column} IS NULL OR {column} = '')"
        return f"{column} IS NULL"


class Rule:
    """How the column `name` of the row that exists takes a new value; `value` is also the
    new row's."""

    value: Any

    def sql(self, row: Row, name: str, param: Param) -> str:
        raise NotImplementedError


@dataclass(frozen=True)
class Always(Rule):
    value: Any

    def sql(self, row: Row, name: str, param: Param) -> str:
        return param(self.value, row.field(name))


@dataclass(frozen=True)
class Fill(Rule):
    """A fact the row lacks (a start time an earlier, lost event would have brought): set
    where the row has none, never overwritten. An empty value fills nothing."""

    value: Any

    def sql(self, row: Row, name: str, param: Param) -> str:
        if self.value in (None, ""):
            return row.column(name)
        return f"CASE WHEN {row.empty(name)} THEN {param(self.value, row.field(name))} ELSE {row.column(name)} END"


@dataclass(frozen=True)
class Newest(Rule):
    """The value of the newest event by Bandwidth's eventTime `at`, against the row's `by`
    column (the eventTime of its newest so far): any arrival order ends the same. On equal
    times the later arrival wins, unless `ties` is off."""

    value: Any
    at: Any
    by: str = "latest_event_time"
    ties: bool = True

    def newer(self, row: Row, param: Param) -> str:
        by = row.column(self.by)
        return f"({by} IS NULL OR {by} {'<=' if self.ties else '<'} {param(self.at, row.field(self.by))})"

    def sql(self, row: Row, name: str, param: Param) -> str:
        return f"CASE WHEN {self.newer(row, param)} THEN {param(self.value, row.field(name))} ELSE {row.column(name)} END"


@dataclass(frozen=True)
class Earliest(Rule):
    value: Any

    def sql(self, row: Row, name: str, param: Param) -> str:
        old = row.column(name)
        if self.value is None:
            return old
        new = param(self.value, row.field(name))
        return f"CASE WHEN {old} IS NULL OR {old} > {new} THEN {param(self.value, row.field(name))} ELSE {old} END"


@dataclass(frozen=True)
class Latest(Rule):
    value: Any

    def sql(self, row: Row, name: str, param: Param) -> str:
        old = row.column(name)
        if self.value is None:
            return old
        new = param(self.value, row.field(name))
        return f"CASE WHEN {old} IS NULL OR {old} < {new} THEN {param(self.value, row.field(name))} ELSE {old} END"


@dataclass(frozen=True)
class Advance(Rule):
    """A state machine's move: to `value` from any of `allowed`, else the state stays."""

    value: Any
    allowed: Sequence[str]

    def moves(self, row: Row, name: str, param: Param) -> str:
        if not self.allowed:
            return "1 = 0"
        return f"{row.column(name)} IN ({', '.join(param(state, row.field(name)) for state in self.allowed)})"

    def sql(self, row: Row, name: str, param: Param) -> str:
        return f"CASE WHEN {self.moves(row, name, param)} THEN {param(self.value, row.field(name))} ELSE {row.column(name)} END"


@dataclass(frozen=True)
class WithMove(Rule):
    """A fact that comes with a move of the state (a disconnect's end time and cause): set
    when `state` moves the row, else only where the row has none."""

    value: Any
    state: Advance

    def sql(self, row: Row, name: str, param: Param) -> str:
        if self.value in (None, ""):
            return row.column(name)
        moves = self.state.moves(row, "state", param)
        return f"CASE WHEN {moves} OR {row.empty(name)} THEN {param(self.value, row.field(name))} ELSE {row.column(name)} END"


@dataclass(frozen=True)
class When(Rule):
    """`value` where the row's columns equal `condition`'s values, else the rule `otherwise`
    (else the column stays)."""

    value: Any
    condition: dict[str, Any]
    otherwise: Rule | None = None

    def sql(self, row: Row, name: str, param: Param) -> str:
        tests = " AND ".join(f"{row.column(column)} = {param(expected, row.field(column))}" for column, expected in self.condition.items())
        otherwise = self.otherwise.sql(row, name, param) if self.otherwise else row.column(name)
        return f"CASE WHEN {tests} THEN {param(self.value, row.field(name))} ELSE {otherwise} END"


@dataclass(frozen=True)
class Outcome:
    """What the statement did: the row as it is now, and whether it was created or any
    rule changed a column."""

    row: Any
    created: bool
    changed: bool


def upsert(
    model: type[M],
    key: dict[str, Any],
    rules: dict[str, Rule],
    *,
    new: dict[str, Any] | None = None,
    untracked: Sequence[str] = (),
) -> Outcome:
    """Create the row of `model` with `key` (its columns: the key, each rule's value, and
    `new`, for the columns only a new row takes), or apply `rules` to the row that exists.
    Rules for the columns in `untracked` (when the row was last heard of) do not count as a
    change. The model needs created_at and updated_at columns: updated_at moves only when
    something tracked changed, which is how the statement tells its caller."""
    now = timezone.now()
    meta = model._meta
    quote = connection.ops.quote_name
    existing = Row(model)
    params, param = _parameters()

    given = {**key, **{name: rule.value for name, rule in rules.items()}, **(new or {}), "created_at": now, "updated_at": now}
    inserted, placeholders = _new_row(model, given, param)

    assignments = [f"{quote(meta.get_field(name).column)} = {rule.sql(existing, name, param)}" for name, rule in rules.items()]
    tracked = [(name, rule) for name, rule in rules.items() if name not in untracked]
    updated = existing.column("updated_at")
    if tracked:
        differs = " OR ".join(
            f"({rule.sql(existing, name, param)}) IS DISTINCT FROM {existing.column(name)}" for name, rule in tracked
        )
        assignments.append(f"{quote('updated_at')} = CASE WHEN {differs} THEN {param(now, meta.get_field('updated_at'))} ELSE {updated} END")
    else:
        assignments.append(f"{quote('updated_at')} = {updated}")

    conflict = ", ".join(quote(meta.get_field(name).column) for name in key)
    sql = (
        f"INSERT INTO {existing.table} ({inserted}) VALUES ({placeholders}) "
        f"ON CONFLICT ({conflict}) DO UPDATE SET {', '.join(assignments)} RETURNING *"
    )
    row = next(iter(model.objects.raw(sql, params)))
    created = row.created_at == now
    return Outcome(row=row, created=created, changed=created or row.updated_at == now)


def _parameters() -> tuple[dict[str, Any], Param]:
    """A statement's parameters, each named, so that a rule may render its parts in any
    order; and the function that adds one, prepared by the model's field as the ORM would."""
    params: dict[str, Any] = {}

    def param(value: Any, field: models.Field) -> str:
        name = f"p{len(params)}"
        params[name] = field.get_db_prep_save(value, connection)
        return f"%({name})s"

    return params, param


def _new_row(model: type[models.Model], given: dict[str, Any], param: Param) -> tuple[str, str]:
    """The columns and values of a new row: what is given, and each other column's default
    (the database has none: Django keeps defaults in Python)."""
    meta = model._meta
    given = {meta.get_field(name).attname: value for name, value in given.items()}
    columns = [field for field in meta.concrete_fields if not field.primary_key]
    values = [given[field.attname] if field.attname in given else field.get_default() for field in columns]
    names = ", ".join(connection.ops.quote_name(field.column) for field in columns)
    return names, ", ".join(param(value, field) for value, field in zip(values, columns, strict=True))


def insert_once(model: type[models.Model], values: dict[str, Any], *, unique: Sequence[str]) -> bool:
    """Insert the row unless one with the same `unique` columns exists; True if inserted.
    A duplicate costs nothing more than the statement (no savepoint, no error)."""
    params, param = _parameters()
    meta, quote = model._meta, connection.ops.quote_name
    names, placeholders = _new_row(model, values, param)
    conflict = ", ".join(quote(meta.get_field(name).column) for name in unique)
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({names}) VALUES ({placeholders}) "
        f"ON CONFLICT ({conflict}) DO NOTHING RETURNING {quote(meta.pk.column)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone() is not None


def touch(model: type[M], where: dict[str, Any], **values: Any) -> list[M]:
    """Set `values` on the rows whose columns equal `where`'s, in one statement that
    returns them as they are now."""
    meta, quote = model._meta, connection.ops.quote_name
    params, param = _parameters()
    assignments = [f"{quote(meta.get_field(name).column)} = {param(value, meta.get_field(name))}" for name, value in values.items()]
    tests = [f"{quote(meta.get_field(name).column)} = {param(value, meta.get_field(name))}" for name, value in where.items()]
    sql = f"UPDATE {quote(meta.db_table)} SET {', '.join(assignments)} WHERE {' AND '.join(tests)} RETURNING *"
    return list(model.objects.raw(sql, params))
