"""Reads whose SQL the ORM builds once per database and keeps, run again with new values.

Building and compiling a SELECT costs the ORM more than running it on a local database
(about a millisecond, against a fifth of one for the round trip): a read asked on every
webhook or every live frame pays that again and again for the same text. A Prepared read is
built once with stand-ins for the values that change (no id, name or moment of ours is a
NUL or in the year 1000), and each run puts the values in the stand-ins' places.

The values it takes: a str, a list of str (the statement is built once per length; an
IN of none matches nothing, as the ORM says), or an aware datetime. A queryset built from
anything else that changes between runs (the time now, a setting, a table read in Python)
must not be kept: pass that value in instead. A read is built twice, with two sets of
stand-ins, and refused if anything but the stand-ins' places differs (the time now, or a
value the ORM altered on its way in, such as icontains's %...%).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection, models
from django.db.models.query import get_related_populators

Value = str | Sequence[str] | datetime
# Statements kept per read, one per database and shape (a list's length).
MAX_SHAPES = 200


@dataclass(frozen=True)
class _Built:
    # None when the statement matches nothing whatever the values (an IN of none).
    sql: str | None
    params: tuple
    # Where each value goes: (parameter index, argument index, element index or None).
    slots: tuple[tuple[int, int, int | None], ...]
    # The compiler that built it: it turns the database's values into Python's, and says
    # which columns are whose model (select_related()), as it does for the ORM's own reads.
    compiler: Any
    converters: dict


class Prepared:
    def __init__(self, build: Callable[..., models.QuerySet]) -> None:
        self.build = build
        self._built: dict[tuple, _Built] = {}

    def rows(self, *values: Value) -> list[tuple]:
        """The rows of a values_list() queryset."""
        return [tuple(row) for row in self._run(values)[1]]

    def objects(self, *values: Value) -> list[models.Model]:
        """The model instances of a queryset, and those it select_related(), as the ORM's
        ModelIterable makes them."""
        built, rows = self._run(values)
        if not rows:
            return []
        info, select = built.compiler.klass_info, built.compiler.select
        start, end = info["select_fields"][0], info["select_fields"][-1] + 1
        names = [column[0].target.attname for column in select[start:end]]
        populators = get_related_populators(info, select, connection.alias)
        found = []
        for row in rows:
            instance = info["model"].from_db(connection.alias, names, row[start:end])
            for populator in populators:
                populator.populate(row, instance)
            found.append(instance)
        return found

    def _run(self, values: Sequence[Value]) -> tuple[_Built, list]:
        built, params = self._statement(values)
        if built.sql is None:
            return built, []
        with connection.cursor() as cursor:
            cursor.execute(built.sql, params)
            rows = cursor.fetchall()
        if built.converters:
            rows = list(built.compiler.apply_converters(rows, built.converters))
        return built, rows

    def _statement(self, values: Sequence[Value]) -> tuple[_Built, list]:
        shape = tuple(_kind(value) for value in values)
        key = (connection.vendor, shape)
        built = self._built.get(key)
        if built is None:
            built = self._built[key] = self._compile(shape)
        params = list(built.params)
        for index, argument, element in built.slots:
            value = values[argument] if element is None else values[argument][element]
            params[index] = _param(value)
        return built, params

    def _compile(self, shape: tuple) -> _Built:
        stand_ins = [_stand_in(kind, argument) for argument, kind in enumerate(shape)]
        compiler = self.build(*stand_ins).query.get_compiler(connection=connection)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:
            return _Built(None, (), (), compiler, {})
        places = {}
        for argument, stand_in in enumerate(stand_ins):
            if isinstance(stand_in, list):
                places.update({one: (argument, element) for element, one in enumerate(stand_in)})
            else:
                places[_param(stand_in)] = (argument, None)
        slots = tuple(
            (index, *places[param]) for index, param in enumerate(params) if isinstance(param, (str, datetime)) and param in places
        )
        self._check_nothing_else_varies(shape, sql, params, {slot[0] for slot in slots})
        converters = compiler.get_converters([column[0] for column in compiler.select[: compiler.col_count]])
        if len(self._built) >= MAX_SHAPES:
            # Lists of many lengths (a window widened again and again): start again.
            self._built.clear()
        return _Built(sql, tuple(params), slots, compiler, converters)

    def _check_nothing_else_varies(self, shape: tuple, sql: str, params: list, placed: set[int]) -> None:
        """Built again with other stand-ins, only the placed parameters may differ. One that
        the ORM changed on its way in (icontains's %...%, a moment truncated to a date)
        differs too: kept, the statement would run with the stand-in for ever."""
        others = [_stand_in(kind, argument, other=True) for argument, kind in enumerate(shape)]
        other_sql, other_params = self.build(*others).query.get_compiler(connection=connection).as_sql()
        unplaced = [(param, other) for index, (param, other) in enumerate(zip(params, other_params)) if index not in placed]
        if other_sql != sql or len(other_params) != len(params) or any(param != other for param, other in unplaced):
            raise ValueError(f"a value of {self.build!r} is altered by the ORM: it cannot be kept")


def one_row(queryset: models.QuerySet, **aggregates: models.Aggregate) -> models.QuerySet:
    """queryset.aggregate(**aggregates) as a values_list() queryset, which a Prepared read
    can keep (aggregate() runs at once): one row of the aggregates, in their order, also
    when nothing matches. Grouped by a constant, which is no GROUP BY at all."""
    grouped = queryset.order_by().annotate(one=models.Value(1)).values("one")
    return grouped.annotate(**aggregates).values_list(*aggregates)


def _kind(value: Value) -> str | int:
    """A value's part in the statement's shape: "str", "datetime", or a list's length."""
    if isinstance(value, str):
        return "str"
    if isinstance(value, datetime):
        return "datetime"
    return len(value)


def _stand_in(kind: str | int, argument: int, other: bool = False) -> Value:
    """A value no id, name or moment of ours is: text with a NUL, a moment in the year 1000
    (1500 for the other set)."""
    mark = "\x00*" if other else "\x00"
    if kind == "str":
        return f"{mark}{argument}"
    if kind == "datetime":
        return datetime((1500 if other else 1000) + argument, 1, 1, tzinfo=timezone.utc)
    return [f"{mark}{argument}.{element}" for element in range(kind)]


def _param(value: str | datetime):
    """A value as the ORM sends it (SQLite takes a moment as text)."""
    return connection.ops.adapt_datetimefield_value(value) if isinstance(value, datetime) else value
