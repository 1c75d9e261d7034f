"""Compile a parsed SOQL query to parameterised SQLite SQL against the stand-in's tables.

Checks done here (with Salesforce's error codes): unknown object (``INVALID_TYPE``), unknown field
(``INVALID_FIELD``), literal of the wrong type, e.g. a quoted datetime (``INVALID_QUERY_FILTER_OPERATOR``),
malformed id literals, duplicate selected fields.

SOQL compares with two-valued logic: a comparison with a NULL field is simply false (``!=`` and ``NOT IN``
are true), so ``NOT (Email = 'x')`` also returns rows without an Email. Every predicate is written so that
SQLite never yields NULL for it, which keeps ``NOT`` faithful. Datetimes are canonical UTC strings, so
comparisons are instant comparisons; text columns use ``COLLATE NOCASE`` like SOQL's case-insensitive
matching.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sandbox.salesforce import ids, timefmt
from sandbox.salesforce.errors import SalesforceError
from sandbox.salesforce.schema import Field, SObject, lookup
from sandbox.salesforce.soql import (
    BoolOp,
    Comparison,
    Condition,
    FieldRef,
    InList,
    Like,
    Not,
    Query,
    SoqlError,
    Value,
    format_error,
)

_SQL_OPS = {"=": "=", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_NUMERIC = frozenset({"int", "double", "currency"})


@dataclass
class CompiledQuery:
    """The SQL pieces for one query."""

    sobject: SObject
    fields: list[Field]
    count: bool
    where_sql: str
    params: list[Any]
    order_sql: str
    limit: int | None
    offset: int | None

    def id_sql(self) -> tuple[str, list[Any]]:
        """``SELECT rowid ...`` in result order (LIMIT/OFFSET applied)."""
        sql = f"SELECT rowid FROM {self.sobject.table} WHERE {self.where_sql} ORDER BY {self.order_sql}"
        params = list(self.params)
        if self.limit is not None or self.offset is not None:
            sql += " LIMIT ? OFFSET ?"
            params += [self.limit if self.limit is not None else -1, self.offset or 0]
        return sql, params

    def count_sql(self) -> tuple[str, list[Any]]:
        inner, params = self.id_sql()
        return f"SELECT count(*) FROM ({inner})", params


def _invalid_field(query: Query, ref: FieldRef, sobject: SObject) -> SalesforceError:
    if "." in ref.name:
        relation = ref.name.split(".", 1)[0]
        message = (
            f"Didn't understand relationship '{relation}' in field path. If you are attempting to use a custom "
            "relationship, be sure to append the '__r' after the custom relationship name. Please reference "
            "your WSDL or the describe call for the appropriate names. (Relationship paths are not supported "
            "by the stand-in.)"
        )
    else:
        message = (
            f"No such column '{ref.name}' on entity '{sobject.name}'. If you are attempting to use a custom "
            "field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the "
            "describe call for the appropriate names."
        )
    return SalesforceError(400, "INVALID_FIELD", format_error(query.text, ref.pos, message))


class _Compiler:
    def __init__(self, query: Query, sobject: SObject, today: dt.date) -> None:
        self.query = query
        self.sobject = sobject
        self.today = today
        self.params: list[Any] = []

    def field(self, ref: FieldRef) -> Field:
        found = self.sobject.get(ref.name)
        if found is None:
            raise _invalid_field(self.query, ref, self.sobject)
        return found

    def filter_error(self, value: Value, message: str) -> SoqlError:
        return SoqlError(self.query.text, value.pos, message, "INVALID_QUERY_FILTER_OPERATOR")

    # --- literals --------------------------------------------------------------------------------------
    def _type_error(self, target: Field, value: Value) -> SoqlError:
        if target.type == "datetime":
            message = f"value of filter criterion for field '{target.name}' must be of type dateTime and should not be enclosed in quotes"
        elif target.type == "date":
            message = f"value of filter criterion for field '{target.name}' must be of type date and should not be enclosed in quotes"
        elif target.type == "boolean":
            message = f"value of filter criterion for field '{target.name}' must be of type boolean and should not be enclosed in quotes"
        elif target.type in _NUMERIC:
            message = f"value of filter criterion for field '{target.name}' must be of type {target.type} and should not be enclosed in quotes"
        else:
            message = f"value of filter criterion for field '{target.name}' must be of type string and should be enclosed in quotes"
        return self.filter_error(value, message)

    def scalar(self, target: Field, value: Value) -> Any:
        """A non-null, non-range literal converted to the stored representation of ``target``."""
        kind = value.kind
        ftype = target.type
        if ftype in ("id", "reference"):
            if kind != "string":
                raise self._type_error(target, value)
            text = str(value.value)
            normal = ids.to18(text)
            if normal is None:
                raise self.filter_error(value, f"invalid ID field: {text}")
            return normal
        if target.is_text:
            if kind != "string":
                raise self._type_error(target, value)
            return value.value
        if ftype == "datetime":
            if kind != "datetime":
                raise self._type_error(target, value)
            return timefmt.parse(str(value.value))
        if ftype == "date":
            if kind != "date":
                raise self._type_error(target, value)
            try:
                return dt.date.fromisoformat(str(value.value)).isoformat()
            except ValueError as exc:
                raise self.filter_error(value, f"invalid date: {value.text}") from exc
        if ftype == "boolean":
            if kind != "boolean":
                raise self._type_error(target, value)
            return 1 if value.value else 0
        if ftype in _NUMERIC:
            if kind != "number":
                raise self._type_error(target, value)
            return value.value
        raise self.filter_error(value, f"field '{target.name}' can not be filtered in a query call")

    def date_range(self, target: Field, value: Value) -> tuple[str, str]:
        """``[start, end)`` of a date literal such as ``TODAY`` in the stored form of ``target`` (UTC days)."""
        word = str(value.value)
        n = value.n or 0
        if word == "TODAY":
            first, last = self.today, self.today
        elif word == "YESTERDAY":
            first = last = self.today - dt.timedelta(days=1)
        elif word == "TOMORROW":
            first = last = self.today + dt.timedelta(days=1)
        elif word == "LAST_N_DAYS":
            first, last = self.today - dt.timedelta(days=n), self.today
        else:  # NEXT_N_DAYS
            first, last = self.today + dt.timedelta(days=1), self.today + dt.timedelta(days=n)
        end = last + dt.timedelta(days=1)
        if target.type == "date":
            return first.isoformat(), end.isoformat()
        if target.type != "datetime":
            raise self._type_error(target, value)
        return (
            timefmt.fmt(dt.datetime.combine(first, dt.time(), dt.UTC)),
            timefmt.fmt(dt.datetime.combine(end, dt.time(), dt.UTC)),
        )

    # --- predicates ------------------------------------------------------------------------------------
    def bind(self, value: Any) -> str:
        self.params.append(value)
        return "?"

    def compile(self, cond: Condition) -> str:
        if isinstance(cond, BoolOp):
            joiner = f" {cond.op} "
            return "(" + joiner.join(self.compile(item) for item in cond.items) + ")"
        if isinstance(cond, Not):
            return f"(NOT {self.compile(cond.item)})"
        if isinstance(cond, Like):
            return self.like(cond)
        if isinstance(cond, InList):
            return self.in_list(cond)
        return self.comparison(cond)

    def column(self, ref: FieldRef) -> tuple[Field, str]:
        target = self.field(ref)
        if not target.filterable or not target.stored:
            raise SoqlError(
                self.query.text,
                ref.pos,
                f"field '{target.name}' can not be filtered in a query call",
                "INVALID_FIELD",
            )
        return target, f'"{target.name}"'

    def comparison(self, cond: Comparison) -> str:
        target, col = self.column(cond.field)
        op, value = cond.op, cond.value
        if value.kind == "null":
            if op == "=":
                return f"({col} IS NULL)"
            if op == "!=":
                return f"({col} IS NOT NULL)"
            raise self.filter_error(value, f"invalid operator on null: {op}")
        if target.type == "boolean" and op not in ("=", "!="):
            raise self.filter_error(value, f"invalid operator on boolean field '{target.name}': {op}")
        if value.kind == "date_literal":
            low, high = self.date_range(target, value)
            return self.range_predicate(col, op, low, high)
        stored = self.scalar(target, value)
        if target.type == "datetime":
            return self.datetime_predicate(col, op, stored)
        return self.simple(col, op, stored)

    def simple(self, col: str, op: str, stored: Any) -> str:
        if op == "!=":
            return f"({col} != {self.bind(stored)} OR {col} IS NULL)"
        return f"({col} {_SQL_OPS[op]} {self.bind(stored)} AND {col} IS NOT NULL)"

    def range_predicate(self, col: str, op: str, low: str, high: str) -> str:
        if op == "=":
            return f"({col} >= {self.bind(low)} AND {col} < {self.bind(high)} AND {col} IS NOT NULL)"
        if op == "!=":
            return f"({col} < {self.bind(low)} OR {col} >= {self.bind(high)} OR {col} IS NULL)"
        if op == "<":
            return self.simple(col, "<", low)
        if op == "<=":
            return self.simple(col, "<", high)
        if op == ">":
            return self.simple(col, ">=", high)
        return self.simple(col, ">=", low)

    def datetime_predicate(self, col: str, op: str, instant: dt.datetime) -> str:
        """Compare against an instant; stored values have millisecond precision."""
        if instant.microsecond % 1000 == 0:
            return self.simple(col, op, timefmt.fmt(instant))
        floor = timefmt.fmt(instant)  # fmt truncates to the millisecond
        ceil = timefmt.fmt(instant + dt.timedelta(milliseconds=1))
        if op == "=":
            return "(0)"
        if op == "!=":
            return "(1)"
        if op in (">", "<="):
            return self.simple(col, op, floor)
        return self.simple(col, op, ceil)  # >= and <

    def in_list(self, cond: InList) -> str:
        target, col = self.column(cond.field)
        values: list[Any] = []
        has_null = False
        for value in cond.values:
            if value.kind == "null":
                has_null = True
                continue
            if value.kind == "date_literal":
                raise self.filter_error(value, "date literals are not supported in IN lists by the stand-in")
            stored = self.scalar(target, value)
            values.append(timefmt.fmt(stored) if isinstance(stored, dt.datetime) else stored)
        parts = []
        if values:
            marks = ", ".join(self.bind(v) for v in values)
            parts.append(f"({col} IN ({marks}) AND {col} IS NOT NULL)")
        if has_null:
            parts.append(f"({col} IS NULL)")
        positive = "(" + " OR ".join(parts) + ")" if parts else "(0)"
        return f"(NOT {positive})" if cond.negated else positive

    def like(self, cond: Like) -> str:
        target, col = self.column(cond.field)
        if not target.is_text or target.type in ("id", "reference"):
            raise self.filter_error(cond.value, f"invalid operator on field '{target.name}': LIKE")
        return f"({col} LIKE {self.bind(cond.value.like_pattern)} ESCAPE '\\' AND {col} IS NOT NULL)"


def compile_query(query: Query, *, include_deleted: bool, today: dt.date | None = None) -> CompiledQuery:
    """Check ``query`` against the schema and turn it into SQL.

    :param include_deleted: ``queryAll`` semantics (recycle-bin rows are included).
    :param today: the UTC date used for ``TODAY`` & co. (defaults to now).
    :raises SalesforceError: on unknown objects/fields and wrongly typed literals.
    """
    sobject = lookup(query.sobject)
    if sobject is None:
        raise SalesforceError(
            400,
            "INVALID_TYPE",
            format_error(
                query.text,
                query.sobject_pos,
                f"sObject type '{query.sobject}' is not supported. If you are attempting to use a custom object, "
                "be sure to append the '__c' after the entity name. Please reference your WSDL or the describe "
                "call for the appropriate names.",
            ),
        )
    compiler = _Compiler(query, sobject, today or dt.datetime.now(dt.UTC).date())
    fields: list[Field] = []
    seen: set[str] = set()
    for ref in query.fields:
        target = compiler.field(ref)
        if target.name in seen:
            raise SoqlError(query.text, ref.pos, f"duplicate field selected: {target.name}")
        seen.add(target.name)
        fields.append(target)
    where = "1"
    if query.where is not None:
        where = compiler.compile(query.where)
    if not include_deleted:
        where = f'("IsDeleted" = 0) AND {where}'
    order_parts = []
    for item in query.order_by:
        target = compiler.field(item.field)
        if not target.sortable or not target.stored:
            raise SoqlError(
                query.text,
                item.field.pos,
                f"field '{target.name}' can not be sorted in a query call",
                "INVALID_FIELD",
            )
        nulls_last = item.nulls_last if item.nulls_last is not None else item.descending
        direction = "DESC" if item.descending else "ASC"
        order_parts.append(f'"{target.name}" {direction} NULLS {"LAST" if nulls_last else "FIRST"}')
    order_parts.append("rowid ASC")
    return CompiledQuery(
        sobject=sobject,
        fields=fields,
        count=query.count,
        where_sql=where,
        params=compiler.params,
        order_sql=", ".join(order_parts),
        limit=query.limit,
        offset=query.offset,
    )
