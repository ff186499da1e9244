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

Every parameter is named after its column (and its role in the rule), so that the text of a
statement depends only on its shape (the model, the rules, which values are empty): it is
built once per shape and kept, and each webhook only prepares its values.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.utils import timezone

M = TypeVar("M", bound=models.Model)
# A rule's parameter by its role ("" for its value): the placeholder naming it.
Placeholder = Callable[[str], str]


class Row:
    """The row that exists, as the ON CONFLICT clause names its columns: through the
    table's alias, "o" (old)."""

    alias = "o"

    def __init__(self, model: type[models.Model]) -> None:
        self.model = model
        self.table = connection.ops.quote_name(model._meta.db_table)

    def field(self, name: str) -> models.Field:
        return self.model._meta.get_field(name)

    def column(self, name: str) -> str:
        return f"{self.alias}.{connection.ops.quote_name(self.field(name).column)}"

    def empty(self, name: str) -> str:
        column = self.column(name)
        if isinstance(self.field(name), (models.CharField, models.TextField)):
            return f"({column} IS NULL OR {column} = '')"
        return f"{column} IS NULL"


def _empty(value: Any) -> bool:
    return value is None or value == ""


class Rule:
    """How the column `name` of the row that exists takes a new value; `value` is also the
    new row's."""

    value: Any

    def shape(self) -> tuple:
        """What the rule's SQL depends on (never a value, only whether it is empty)."""
        return (type(self).__name__, _empty(self.value))

    def parameters(self) -> dict[str, tuple[Any, str | None]]:
        """Role -> (value, the column whose field prepares it; None: the rule's own)."""
        return {"": (self.value, None)}

    def sql(self, row: Row, name: str, p: Placeholder) -> str:
        raise NotImplementedError


@dataclass(frozen=True)
class Always(Rule):
    value: Any

    def sql(self, row: Row, name: str, p: Placeholder) -> str:
        return p("")


@dataclass(frozen=True)
class Fill(Rule):
    """A fact the row lacks (a start time an earlier, lost event would have brought): set
    where the row has none, never overwritten. An empty value fills nothing."""

    value: Any

    def sql(self, row: Row, name: str, p: Placeholder) -> str:
        if _empty(self.value):
            return row.column(name)
        return f"CASE WHEN {row.empty(name)} THEN {p('')} ELSE {row.column(name)} END"


@dataclass(frozen=True)
class Newest(Rule):
    """The value of the newest event by Bandwidth's eventTime `at`, against the row's `by`
    column (the eventTime of its newest so far): any arrival order ends the same. On equal
    times the later arrival wins, unless `ties` is off."""

    value: Any
    at: Any
    by: str = "latest_event_time"
    ties: bool = True

    def shape(self) -> tuple:
        return (*super().shape(), self.by, self.ties)

    def parameters(self) -> dict[str, tuple[Any, str | None]]:
        return {"": (self.value, None), "at": (self.at, self.by)}

    def sql(self, row: Row, name: str, p: Placeholder) -> str:
        by = row.column(self.by)
        newer = f"({by} IS NULL OR {by} {'<=' if self.ties else '<'} {p('at')})"
        return f"CASE WHEN {newer} THEN {p('')} ELSE {row.column(name)} END"


@dataclass(frozen=True)
class Earliest(Rule):
    value: Any

    def sql(self, row: Row, name: str, p: Placeholder) -> str:
        old = row.column(name)
        if self.value is None:
            return old
        return f"CASE WHEN {old} IS NULL OR {old} > {p('')} THEN {p('')} ELSE {old} END"


@dataclass(frozen=True)
class Latest(Rule):
    value: Any

    def sql(self, row: Row, name: str, p: Placeholder) -> str:
        old = row.column(name)
        if self.value is None:
            return old
        return f"CASE WHEN {old} IS NULL OR {old} < {p('')} THEN {p('')} ELSE {old} END"


@dataclass(frozen=True)
class Advance(Rule):
    """A state machine's move: to `value` from any of `allowed`, else the state stays."""

    value: Any
    allowed: Sequence[str]

    def shape(self) -> tuple:
        return (*super().shape(), tuple(self.allowed))

    def moves(self, row: Row, name: str) -> str:
        if not self.allowed:
            return "1 = 0"
        # The states are the table's own: literal, as a statement's shape.
        states = ", ".join(f"'{state}'" for state in self.allowed)
        return f"{row.column(name)} IN ({states})"

    def sql(self, row: Row, name: str, p: Placeholder) -> str:
        return f"CASE WHEN {self.moves(row, name)} THEN {p('')} ELSE {row.column(name)} END"


@dataclass(frozen=True)
class WithMove(Rule):
    """A fact that comes with a move of the state (a disconnect's end time and cause): set
    when `state` moves the row, else only where the row has none."""

    value: Any
    state: Advance

    def shape(self) -> tuple:
        return (*super().shape(), self.state.shape())

    def sql(self, row: Row, name: str, p: Placeholder) -> str:
        if _empty(self.value):
            return row.column(name)
        return f"CASE WHEN {self.state.moves(row, 'state')} OR {row.empty(name)} THEN {p('')} ELSE {row.column(name)} END"


@dataclass(frozen=True)
class When(Rule):
    """`value` where the row's columns equal `condition`'s values, else the rule `otherwise`
    (else the column stays)."""

    value: Any
    condition: dict[str, Any]
    otherwise: Rule | None = None

    def shape(self) -> tuple:
        return (*super().shape(), tuple(self.condition), self.otherwise.shape() if self.otherwise else None)

    def parameters(self) -> dict[str, tuple[Any, str | None]]:
        own = {"": (self.value, None), **{f"if_{column}": (value, column) for column, value in self.condition.items()}}
        if self.otherwise is not None:
            own.update({f"else_{role}": parameter for role, parameter in self.otherwise.parameters().items()})
        return own

    def sql(self, row: Row, name: str, p: Placeholder) -> str:
        tests = " AND ".join(f"{row.column(column)} = {p(f'if_{column}')}" for column in self.condition)
        otherwise = self.otherwise.sql(row, name, lambda role: p(f"else_{role}")) if self.otherwise else row.column(name)
        return f"CASE WHEN {tests} THEN {p('')} ELSE {otherwise} END"


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
    new = {**(new or {}), "created_at": now, "updated_at": now}
    sql = _statement(model, tuple(key), rules, tuple(new), tuple(untracked))
    meta, db = model._meta, connections[DEFAULT_DB_ALIAS]
    given = {**key, **{name: rule.value for name, rule in rules.items()}, **new}
    params = {_name(name): _prepare(db, meta.get_field(name), value) for name, value in given.items()}
    for name, rule in rules.items():
        for role, (value, column) in rule.parameters().items():
            if role:
                params[_name(name, role)] = _prepare(db, meta.get_field(column or name), value)
    params.update(_defaults(db, model, tuple(given)))
    row = _rows(db, model, sql, params)[0]
    created = row.created_at == now
    return Outcome(row=row, created=created, changed=created or row.updated_at == now)


def _name(column: str, role: str = "") -> str:
    return f"{column}__{role}" if role else column


# Fields that store a str as it is: CharField.to_python and the database's preparation
# return it unchanged, through half a dozen calls per value.
_TEXT_FIELDS = (models.CharField, models.TextField)


def _prepare(db, field: models.Field, value: Any) -> Any:
    if value.__class__ is str and field.__class__ in _TEXT_FIELDS:
        return value
    # `db` is the connection itself, looked up once per statement: every use of Django's
    # `connection` looks it up again (a context-local lookup), a dozen times per column.
    return field.get_db_prep_save(value, db)


# Statements by shape: a few dozen, built on first use.
_statements: dict[tuple, str] = {}


def _statement(
    model: type[models.Model], key: tuple[str, ...], rules: dict[str, Rule], new: tuple[str, ...], untracked: tuple[str, ...]
) -> str:
    shape = (connection.vendor, model, key, tuple((name, rule.shape()) for name, rule in rules.items()), new, untracked)
    sql = _statements.get(shape)
    if sql is None:
        sql = _statements[shape] = _render(model, key, rules, new, untracked)
    return sql


def _render(
    model: type[models.Model], key: tuple[str, ...], rules: dict[str, Rule], new: tuple[str, ...], untracked: tuple[str, ...]
) -> str:
    meta, quote = model._meta, connection.ops.quote_name
    existing = Row(model)

    def placeholder(name: str) -> Placeholder:
        # A rule's own value is the proposed row's (EXCLUDED, which the VALUES clause
        # fills from the same parameter): each value is sent once, not once per use.
        proposed = f"excluded.{quote(meta.get_field(name).column)}"
        return lambda role: f"%({_name(name, role)})s" if role else proposed

    given = {meta.get_field(name).attname: name for name in (*key, *rules, *new)}
    inserted, values = _new_row(model, given)
    # A rule that leaves its column as it is (a gap an empty value cannot fill) is left out.
    setting = {name: sql for name, rule in rules.items() if (sql := rule.sql(existing, name, placeholder(name))) != existing.column(name)}
    assignments = [f"{quote(meta.get_field(name).column)} = {sql}" for name, sql in setting.items()]
    tracked = [name for name in setting if name not in untracked]
    updated = existing.column("updated_at")
    if tracked:
        differs = " OR ".join(f"({setting[name]}) IS DISTINCT FROM {existing.column(name)}" for name in tracked)
        assignments.append(f"{quote('updated_at')} = CASE WHEN {differs} THEN excluded.{quote('updated_at')} ELSE {updated} END")
    else:
        assignments.append(f"{quote('updated_at')} = {updated}")
    conflict = ", ".join(quote(meta.get_field(name).column) for name in key)
    return (
        f"INSERT INTO {existing.table} AS {existing.alias} ({inserted}) VALUES ({values}) "
        f"ON CONFLICT ({conflict}) DO UPDATE SET {', '.join(assignments)} RETURNING {_returning(model)}"
    )


def _new_row(model: type[models.Model], given: dict[str, str]) -> tuple[str, str]:
    """The columns of a new row, and their values: a parameter for each given one (attname
    -> its parameter's name), and each other column's default, inlined (the database has
    none: Django keeps defaults in Python)."""
    columns = [field for field in model._meta.concrete_fields if not field.primary_key]
    names = ", ".join(connection.ops.quote_name(field.column) for field in columns)
    values = []
    for field in columns:
        if field.attname in given:
            values.append(f"%({_name(given[field.attname])})s")
        else:
            values.append(f"%(default_{field.attname})s")
    return names, ", ".join(values)


def _defaults(db, model: type[models.Model], given: tuple[str, ...]) -> dict[str, Any]:
    """The defaults of the columns a new row is not given (`given`: field names), as parameters."""
    key = (model, given)
    fields = _defaulted.get(key)
    if fields is None:
        named = {model._meta.get_field(name).attname for name in given}
        fields = _defaulted[key] = [field for field in model._meta.concrete_fields if not field.primary_key and field.attname not in named]
    # Evaluated each time: a default may be a callable (now, a new dict).
    return {f"default_{field.attname}": _prepare(db, field, field.get_default()) for field in fields}


# The columns a statement of each shape leaves to their defaults: (model, given fields) -> fields.
_defaulted: dict[tuple, list[models.Field]] = {}


def insert_once(model: type[models.Model], values: dict[str, Any], *, unique: Sequence[str]) -> bool:
    """Insert the row unless one with the same `unique` columns exists; True if inserted.
    A duplicate costs nothing more than the statement (no savepoint, no error)."""
    meta, db = model._meta, connections[DEFAULT_DB_ALIAS]
    shape = (db.vendor, model, tuple(values), tuple(unique))
    sql = _statements.get(shape)
    if sql is None:
        quote = db.ops.quote_name
        names, placeholders = _new_row(model, {meta.get_field(name).attname: name for name in values})
        conflict = ", ".join(quote(meta.get_field(name).column) for name in unique)
        sql = _statements[shape] = (
            f"INSERT INTO {quote(meta.db_table)} ({names}) VALUES ({placeholders}) "
            f"ON CONFLICT ({conflict}) DO NOTHING RETURNING {quote(meta.pk.column)}"
        )
    params = {_name(name): _prepare(db, meta.get_field(name), value) for name, value in values.items()}
    params.update(_defaults(db, model, tuple(values)))
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone() is not None


def touch(model: type[M], where: dict[str, Any], **values: Any) -> list[M]:
    """Set `values` on the rows whose columns equal `where`'s, in one statement that
    returns them as they are now."""
    meta, db = model._meta, connections[DEFAULT_DB_ALIAS]
    shape = (db.vendor, model, "touch", tuple(where), tuple(values))
    sql = _statements.get(shape)
    if sql is None:
        quote = db.ops.quote_name
        assignments = [f"{quote(meta.get_field(name).column)} = %(set_{name})s" for name in values]
        tests = [f"{quote(meta.get_field(name).column)} = %(where_{name})s" for name in where]
        sql = _statements[shape] = (
            f"UPDATE {quote(meta.db_table)} SET {', '.join(assignments)} WHERE {' AND '.join(tests)} RETURNING {_returning(model)}"
        )
    params = {f"set_{name}": _prepare(db, meta.get_field(name), value) for name, value in values.items()}
    params.update({f"where_{name}": _prepare(db, meta.get_field(name), value) for name, value in where.items()})
    return _rows(db, model, sql, params)


# Rows back: each statement returns the model's columns in the order of its fields, and
# they are loaded as the ORM loads a row (the backend's and the fields' converters, then
# Model.from_db), without a RawQuerySet: that one reads the cursor's description and maps
# its columns to fields again for every statement, which cost more than the statement.


def _returning(model: type[models.Model]) -> str:
    return ", ".join(connection.ops.quote_name(field.column) for field in model._meta.concrete_fields)


# Per (database vendor, model): each column's converters, where it has any.
_converters: dict[tuple, list[tuple[int, list, Any]]] = {}


def _column_converters(db, model: type[models.Model]) -> list[tuple[int, list, Any]]:
    key = (db.vendor, model)
    found = _converters.get(key)
    if found is None:
        found = []
        for index, field in enumerate(model._meta.concrete_fields):
            column = field.get_col(model._meta.db_table)
            converters = db.ops.get_db_converters(column) + column.get_db_converters(db)
            if converters:
                found.append((index, converters, column))
        _converters[key] = found
    return found


def _rows(db, model: type[M], sql: str, params: dict[str, Any]) -> list[M]:
    converters = _column_converters(db, model)
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    rows = []
    for values in fetched:
        values = list(values)
        for index, functions, column in converters:
            for convert in functions:
                values[index] = convert(values[index], column, db)
        rows.append(model.from_db(db.alias, None, values))
    return rows
