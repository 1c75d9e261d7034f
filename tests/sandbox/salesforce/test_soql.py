"""Unit tests of the SOQL subset: tokenizer, parser and the compiler's schema/type checks."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest

from sandbox.salesforce import soql
from sandbox.salesforce.compiler import compile_query
from sandbox.salesforce.errors import SalesforceError
from sandbox.salesforce.soql import BoolOp, Comparison, InList, Like, Not, SoqlError, parse

TODAY = dt.date(2026, 10, 15)


def compiled(text: str, include_deleted: bool = False):
    return compile_query(parse(text), include_deleted=include_deleted, today=TODAY)


def error_of(text: str) -> SalesforceError:
    with pytest.raises(SalesforceError) as info:
        compiled(text)
    return info.value


# --- tokenizer --------------------------------------------------------------------------------------------


def test_tokenizer_kinds():
    tokens = soql.tokenize(
        "SELECT Id FROM Contact WHERE CreatedDate >= 2026-10-01T00:00:00.000+0000 AND Birthdate = 2000-01-31"
    )
    kinds = [(t.kind, t.text) for t in tokens]
    assert ("datetime", "2026-10-01T00:00:00.000+0000") in kinds
    assert ("date", "2000-01-31") in kinds
    assert ("op", ">=") in kinds
    assert kinds[-1] == ("eof", "<EOF>")


def test_string_escapes_decode_and_like_pattern():
    (token, _eof) = soql.tokenize(r"'O\'Brien \\ \n \% \_'")
    assert token.value == "O'Brien \\ \n % _"
    assert token.like_pattern == "O'Brien \\\\ \n \\% \\_"


@pytest.mark.parametrize("text", [r"'bad \q escape'", "'unterminated"])
def test_bad_string_literals(text):
    with pytest.raises(SoqlError) as info:
        soql.tokenize(text)
    assert info.value.error_code == "MALFORMED_QUERY"


# --- parser -----------------------------------------------------------------------------------------------


def test_parse_full_query():
    query = parse(
        "select Id, email FROM contact WHERE (Email LIKE '%@x.com' OR Email = null) AND NOT LastName IN ('a','b') "
        "ORDER BY CreatedDate DESC NULLS FIRST, Id ASC LIMIT 10 OFFSET 5"
    )
    assert [f.name for f in query.fields] == ["Id", "email"]
    assert query.sobject == "contact"
    assert isinstance(query.where, BoolOp) and query.where.op == "AND"
    first, second = query.where.items
    assert isinstance(first, BoolOp) and first.op == "OR"
    assert isinstance(first.items[0], Like)
    assert isinstance(second, Not) and isinstance(second.item, InList)
    assert [(o.field.name, o.descending, o.nulls_last) for o in query.order_by] == [
        ("CreatedDate", True, False),
        ("Id", False, None),
    ]
    assert (query.limit, query.offset) == (10, 5)


def test_not_in_and_count():
    query = parse("SELECT COUNT() FROM Contact WHERE LeadSource NOT IN ('Web')")
    assert query.count and query.fields == []
    assert isinstance(query.where, InList) and query.where.negated


def test_date_literals_parse():
    query = parse(
        "SELECT Id FROM Contact WHERE CreatedDate = LAST_N_DAYS:7 OR CreatedDate = TODAY OR CreatedDate = YESTERDAY"
    )
    values = [item.value for item in query.where.items]
    assert [(v.kind, v.value, v.n) for v in values] == [
        ("date_literal", "LAST_N_DAYS", 7),
        ("date_literal", "TODAY", None),
        ("date_literal", "YESTERDAY", None),
    ]


def test_comparison_operators():
    for op in ("=", "!=", "<", "<=", ">", ">="):
        query = parse(f"SELECT Id FROM Contact WHERE LastName {op} 'x'")
        assert isinstance(query.where, Comparison) and query.where.op == op
    assert parse("SELECT Id FROM Contact WHERE LastName <> 'x'").where.op == "!="


@pytest.mark.parametrize(
    "text",
    [
        "SELECT FROM Contact",
        "SELECT Id Contact",
        "SELECT Id FROM Contact WHERE",
        "SELECT Id FROM Contact WHERE LastName = 'a' AND Email = 'b' OR Phone = 'c'",  # mixed AND/OR
        "SELECT Id FROM Contact WHERE LastName",
        "SELECT Id FROM Contact LIMIT x",
        "SELECT Id FROM Contact GROUP BY LastName",
        "SELECT Id, (SELECT Id FROM Contacts) FROM Account",
        "SELECT COUNT(Id) FROM Contact",
        "SELECT Id FROM Contact WHERE Id IN :ids",
        "SELECT Id FROM Contact ORDER BY",
        "SELECT Id FROM Contact WHERE LastName LIKE 5",
        "SELECT Id FROM Contact trailing",
        "SELECT Id FROM Contact WHERE LastName = 'a' #",
        "",
    ],
)
def test_malformed_queries(text):
    with pytest.raises(SoqlError) as info:
        parse(text)
    assert info.value.error_code == "MALFORMED_QUERY"
    assert "ERROR at Row:1:Column:" in info.value.message


def test_offset_above_2000_is_rejected():
    with pytest.raises(SoqlError) as info:
        parse("SELECT Id FROM Contact OFFSET 2001")
    assert info.value.error_code == "NUMBER_OUTSIDE_VALID_RANGE"
    assert parse("SELECT Id FROM Contact OFFSET 2000").offset == 2000


def test_error_position_points_at_token():
    with pytest.raises(SoqlError) as info:
        parse("SELECT Id FROM Contact WHERE Email = 'a' OR")
    assert "Column:44" in info.value.message  # just past the end
    assert "unexpected token: '<EOF>'" in info.value.message


# --- compiler checks --------------------------------------------------------------------------------------


def test_unknown_field_and_object():
    err = error_of("SELECT Id, Foo FROM Contact")
    assert err.error_code == "INVALID_FIELD" and "No such column 'Foo' on entity 'Contact'" in err.message
    assert error_of("SELECT Id FROM Contact WHERE Bar = 'x'").error_code == "INVALID_FIELD"
    assert error_of("SELECT Id FROM Contact ORDER BY Baz").error_code == "INVALID_FIELD"
    assert error_of("SELECT Account.Name FROM Contact").error_code == "INVALID_FIELD"
    assert error_of("SELECT Id FROM Nope").error_code == "INVALID_TYPE"


def test_quoted_datetime_is_rejected():
    err = error_of("SELECT Id FROM Contact WHERE CreatedDate > '2026-10-01T00:00:00Z'")
    assert err.error_code == "INVALID_QUERY_FILTER_OPERATOR"
    assert "must be of type dateTime and should not be enclosed in quotes" in err.message


@pytest.mark.parametrize(
    "text",
    [
        "SELECT Id FROM Contact WHERE CreatedDate > 2026-10-01",  # date literal on a datetime
        "SELECT Id FROM Contact WHERE Birthdate = 2026-10-01T00:00:00Z",  # datetime on a date
        "SELECT Id FROM Contact WHERE Email = 5",
        "SELECT Id FROM Contact WHERE Email = 2026-10-01T00:00:00Z",
        "SELECT Id FROM Contact WHERE IsDeleted = 'true'",
        "SELECT Id FROM Contact WHERE IsDeleted > true",
        "SELECT Id FROM Contact WHERE Id = 'not-an-id'",
        "SELECT Id FROM Contact WHERE CreatedDate LIKE 'x%'",
        "SELECT Id FROM Contact WHERE LastName < null",
        "SELECT Id FROM Account WHERE NumberOfEmployees > '5'",
    ],
)
def test_literal_type_errors(text):
    assert error_of(text).error_code == "INVALID_QUERY_FILTER_OPERATOR"


def test_compound_field_not_filterable_and_duplicate_select():
    assert error_of("SELECT Id FROM Contact WHERE MailingAddress = null").error_code == "INVALID_FIELD"
    assert error_of("SELECT Id, id FROM Contact").error_code == "MALFORMED_QUERY"


def test_field_names_are_case_insensitive_and_canonical():
    result = compiled("select ID, firstname, mailingaddress from CONTACT")
    assert [f.name for f in result.fields] == ["Id", "FirstName", "MailingAddress"]
    assert result.sobject.name == "Contact"


def test_query_excludes_deleted_unless_query_all():
    assert '"IsDeleted" = 0' in compiled("SELECT Id FROM Contact").where_sql
    assert '"IsDeleted" = 0' not in compiled("SELECT Id FROM Contact", include_deleted=True).where_sql


# --- compiled SQL evaluated on a tiny table -----------------------------------------------------------------


@pytest.fixture
def table():
    conn = sqlite3.connect(":memory:")
    conn.execute(
        'CREATE TABLE sobj_contact ("Id" TEXT, "LastName" TEXT COLLATE NOCASE, "Email" TEXT COLLATE NOCASE, '
        '"CreatedDate" TEXT, "Birthdate" TEXT, "IsDeleted" INTEGER, "LeadSource" TEXT COLLATE NOCASE)'
    )
    rows = [
        ("A", "O'Brien", "a@x.com", "2026-10-15T08:00:00.000+0000", "2000-01-31", 0, "Web"),
        ("B", "Smith", None, "2026-10-14T23:59:59.999+0000", None, 0, None),
        ("C", "smith_jr", "c@Y.com", "2026-10-01T00:00:00.000+0000", "1990-05-05", 0, "Other"),
        ("D", "100%", "d@x.com", "2026-09-01T00:00:00.000+0000", None, 1, "Web"),
    ]
    conn.executemany("INSERT INTO sobj_contact VALUES (?,?,?,?,?,?,?)", rows)
    return conn


def run(conn, text, include_deleted=False):
    sql, params = compiled(text, include_deleted).id_sql()
    sql = sql.replace("SELECT rowid", 'SELECT "Id"')
    return [r[0] for r in conn.execute(sql, params)]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("Email = 'A@X.COM'", ["A"]),  # case-insensitive equality
        ("Email != 'a@x.com'", ["B", "C"]),  # != includes nulls
        ("NOT (Email = 'a@x.com')", ["B", "C"]),  # two-valued logic under NOT
        ("Email = null", ["B"]),
        ("Email != null", ["A", "C"]),
        ("LastName = 'O\\'Brien'", ["A"]),
        ("LastName LIKE 'smith%'", ["B", "C"]),
        ("LastName LIKE 'smith\\_%'", ["C"]),
        ("LeadSource IN ('web', 'Other')", ["A", "C"]),
        ("LeadSource NOT IN ('Web')", ["B", "C"]),
        ("LeadSource IN ('Web', null)", ["A", "B"]),
        ("CreatedDate >= 2026-10-14T23:59:59.999Z", ["A", "B"]),
        ("CreatedDate > 2026-10-15T06:59:59+07:00", ["A", "B"]),  # offsets compare as instants
        ("CreatedDate < 2026-10-15T00:00:00.000+0000", ["B", "C"]),
        ("CreatedDate >= 2026-10-14T23:59:59.9995Z", ["A"]),  # sub-millisecond literal
        ("CreatedDate > 2026-10-14T23:59:59.9995Z", ["A"]),
        ("CreatedDate <= 2026-10-14T23:59:59.9995Z", ["B", "C"]),
        ("CreatedDate = TODAY", ["A"]),
        ("CreatedDate = YESTERDAY", ["B"]),
        ("CreatedDate < TODAY", ["B", "C"]),
        ("CreatedDate > YESTERDAY", ["A"]),
        ("CreatedDate = LAST_N_DAYS:14", ["A", "B", "C"]),
        ("CreatedDate = LAST_N_DAYS:1", ["A", "B"]),
        ("Birthdate = 2000-01-31", ["A"]),
        ("Birthdate < 1995-01-01", ["C"]),
        ("(Email = null OR LeadSource = 'Other') AND NOT LastName = 'smith_jr'", ["B"]),
    ],
)
def test_where_semantics(table, where, expected):
    assert sorted(run(table, f"SELECT Id FROM Contact WHERE {where}")) == expected


def test_order_by_nulls_and_limit_offset(table):
    assert run(table, "SELECT Id FROM Contact ORDER BY Email") == ["B", "A", "C"]
    assert run(table, "SELECT Id FROM Contact ORDER BY Email NULLS LAST") == ["A", "C", "B"]
    assert run(table, "SELECT Id FROM Contact ORDER BY Email DESC") == ["C", "A", "B"]
    assert run(table, "SELECT Id FROM Contact ORDER BY LastName DESC, Email ASC NULLS FIRST") == [
        "C",
        "B",
        "A",
    ]
    assert run(table, "SELECT Id FROM Contact ORDER BY CreatedDate LIMIT 2 OFFSET 1") == ["B", "A"]
    assert run(table, "SELECT Id FROM Contact WHERE IsDeleted = true", include_deleted=True) == ["D"]
    assert run(table, "SELECT Id FROM Contact WHERE LastName LIKE '100\\%'", include_deleted=True) == ["D"]
