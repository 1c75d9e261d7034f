"""A SOQL subset: tokenizer, AST and recursive-descent parser.

Supported: ``SELECT f1, f2 | COUNT() FROM Obj [WHERE cond] [ORDER BY f [ASC|DESC] [NULLS FIRST|LAST], ...]
[LIMIT n] [OFFSET n]``; conditions with ``AND``/``OR``/``NOT``/parentheses (mixing AND and OR without
parentheses is rejected, as SOQL does), ``= != <> < <= > >=``, ``[NOT] IN (...)``, ``LIKE``, ``NULL``,
booleans, numbers, quoted strings with backslash escapes, unquoted datetime and date literals, and the date
literals ``TODAY``, ``YESTERDAY``, ``TOMORROW``, ``LAST_N_DAYS:n``, ``NEXT_N_DAYS:n``.

Anything else raises :class:`SoqlError` (``MALFORMED_QUERY``); the parser never guesses. Schema checks
(unknown fields, literal types) happen when the AST is compiled (:mod:`sandbox.salesforce.compiler`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal as TypingLiteral

from sandbox.salesforce.errors import SalesforceError

TokenKind = TypingLiteral["ident", "string", "number", "datetime", "date", "op", "punct", "eof"]

KEYWORDS = frozenset(
    {
        "SELECT",
        "FROM",
        "WHERE",
        "AND",
        "OR",
        "NOT",
        "IN",
        "LIKE",
        "NULL",
        "TRUE",
        "FALSE",
        "ORDER",
        "BY",
        "ASC",
        "DESC",
        "NULLS",
        "FIRST",
        "LAST",
        "LIMIT",
        "OFFSET",
    }
)
UNSUPPORTED_KEYWORDS = frozenset(
    {"GROUP", "HAVING", "WITH", "FOR", "USING", "SCOPE", "TYPEOF", "INCLUDES", "EXCLUDES", "ROLLUP", "CUBE"}
)
DATE_KEYWORDS = frozenset({"TODAY", "YESTERDAY", "TOMORROW"})
DATE_N_KEYWORDS = frozenset({"LAST_N_DAYS", "NEXT_N_DAYS"})
OPERATORS = ("!=", "<>", "<=", ">=", "=", "<", ">")

_STRING_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", '"': '"', "'": "'", "\\": "\\"}
_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<datetime>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:?\d\d))
  | (?P<date>\d{4}-\d\d-\d\d(?![\dT]))
  | (?P<number>[+-]?\d+(?:\.\d+)?(?![\w]))
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<op>!=|<>|<=|>=|=|<|>)
  | (?P<punct>[,():])
  | (?P<quote>')
    """,
    re.VERBOSE,
)


class SoqlError(SalesforceError):
    """A query the parser does not accept (``MALFORMED_QUERY`` unless told otherwise)."""

    def __init__(self, query: str, pos: int, message: str, error_code: str = "MALFORMED_QUERY") -> None:
        super().__init__(400, error_code, format_error(query, pos, message))
        self.pos = pos
        self.detail = message


def format_error(query: str, pos: int, message: str) -> str:
    """Salesforce-style message: the offending line, a caret, ``ERROR at Row:r:Column:c`` and the detail."""
    pos = max(0, min(pos, len(query)))
    row = query.count("\n", 0, pos) + 1
    line_start = query.rfind("\n", 0, pos) + 1
    line_end = query.find("\n", pos)
    line = query[line_start : line_end if line_end >= 0 else len(query)]
    column = pos - line_start + 1
    return f"\n{line}\n{' ' * (column - 1)}^\nERROR at Row:{row}:Column:{column}\n{message}"


@dataclass(frozen=True)
class Token:
    kind: TokenKind
    text: str
    pos: int
    value: object = None  # decoded string literal
    like_pattern: str | None = None  # string literal as a LIKE pattern with ``\`` as the escape character

    @property
    def upper(self) -> str:
        return self.text.upper()

    def is_keyword(self, *words: str) -> bool:
        return self.kind == "ident" and self.text.upper() in words


def _read_string(query: str, start: int) -> Token:
    """Read a quoted string starting at the quote at ``start``."""
    value: list[str] = []
    pattern: list[str] = []
    index = start + 1
    while index < len(query):
        char = query[index]
        if char == "'":
            return Token("string", query[start : index + 1], start, "".join(value), "".join(pattern))
        if char == "\\":
            if index + 1 >= len(query):
                break
            escaped = query[index + 1]
            lowered = escaped.lower()
            if escaped in ("%", "_"):
                value.append(escaped)
                pattern.append("\\" + escaped)
            elif lowered in _STRING_ESCAPES or escaped in _STRING_ESCAPES:
                decoded = _STRING_ESCAPES.get(escaped, _STRING_ESCAPES.get(lowered, ""))
                value.append(decoded)
                pattern.append("\\\\" if decoded == "\\" else decoded)
            else:
                raise SoqlError(
                    query,
                    index,
                    f"Invalid string literal '{query[start : index + 2]}'. Illegal escape sequence '\\{escaped}'",
                )
            index += 2
            continue
        value.append(char)
        pattern.append(char)
        index += 1
    raise SoqlError(query, start, f"line 1:{start} mismatched character '<EOF>' expecting '''")


def tokenize(query: str) -> list[Token]:
    """Split a SOQL string into tokens (whitespace dropped, an ``eof`` token appended)."""
    tokens: list[Token] = []
    index = 0
    while index < len(query):
        match = _TOKEN_RE.match(query, index)
        if match is None:
            raise SoqlError(query, index, f"unexpected token: '{query[index]}'")
        kind = match.lastgroup
        if kind == "quote":
            token = _read_string(query, index)
            tokens.append(token)
            index += len(token.text)
            continue
        if kind != "ws":
            tokens.append(Token(kind, match.group(), index))  # type: ignore[arg-type]
        index = match.end()
    tokens.append(Token("eof", "<EOF>", len(query)))
    return tokens


# --- AST -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldRef:
    name: str
    pos: int


@dataclass(frozen=True)
class Value:
    """A literal: ``kind`` is string, number, datetime, date, boolean, null or date_literal."""

    kind: str
    value: object
    text: str
    pos: int
    like_pattern: str | None = None
    n: int | None = None  # for LAST_N_DAYS:n style literals


@dataclass(frozen=True)
class Comparison:
    field: FieldRef
    op: str
    value: Value


@dataclass(frozen=True)
class InList:
    field: FieldRef
    values: tuple[Value, ...]
    negated: bool


@dataclass(frozen=True)
class Like:
    field: FieldRef
    value: Value


@dataclass(frozen=True)
class Not:
    item: Condition


@dataclass(frozen=True)
class BoolOp:
    op: TypingLiteral["AND", "OR"]
    items: tuple[Condition, ...]


Condition = Comparison | InList | Like | Not | BoolOp


@dataclass(frozen=True)
class OrderItem:
    field: FieldRef
    descending: bool = False
    nulls_last: bool | None = None  # None: SOQL default (ASC → NULLS FIRST, DESC → NULLS LAST)


@dataclass
class Query:
    sobject: str
    sobject_pos: int
    fields: list[FieldRef] = field(default_factory=list)
    count: bool = False
    where: Condition | None = None
    order_by: list[OrderItem] = field(default_factory=list)
    limit: int | None = None
    offset: int | None = None
    text: str = ""


# --- parser ----------------------------------------------------------------------------------------------


class _Parser:
    def __init__(self, query: str) -> None:
        self.query = query
        self.tokens = tokenize(query)
        self.index = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        if token.kind != "eof":
            self.index += 1
        return token

    def error(self, token: Token | None = None, message: str | None = None) -> SoqlError:
        token = token or self.current
        if message is None:
            if token.kind == "ident" and token.upper in UNSUPPORTED_KEYWORDS:
                message = f"unexpected token: '{token.text}' ({token.upper} is not supported by the stand-in)"
            else:
                message = f"unexpected token: '{token.text}'"
        return SoqlError(self.query, token.pos, message)

    def expect_keyword(self, word: str) -> Token:
        if not self.current.is_keyword(word):
            raise self.error()
        return self.advance()

    def expect_punct(self, char: str) -> Token:
        if not (self.current.kind == "punct" and self.current.text == char):
            raise self.error()
        return self.advance()

    def at_punct(self, char: str) -> bool:
        return self.current.kind == "punct" and self.current.text == char

    def field_ref(self) -> FieldRef:
        token = self.current
        if token.kind != "ident" or token.upper in KEYWORDS or token.upper in UNSUPPORTED_KEYWORDS:
            raise self.error()
        self.advance()
        return FieldRef(token.text, token.pos)

    def integer(self) -> int:
        token = self.current
        if token.kind != "number" or not token.text.isdigit():
            raise self.error()
        self.advance()
        return int(token.text)

    # SELECT ... FROM ...
    def parse(self) -> Query:
        self.expect_keyword("SELECT")
        fields: list[FieldRef] = []
        count = False
        if self.current.is_keyword("COUNT") and self.tokens[self.index + 1].text == "(":
            self.advance()
            self.expect_punct("(")
            if not self.at_punct(")"):
                raise self.error(
                    message="unexpected token: COUNT(field) aggregates are not supported by the stand-in"
                )
            self.expect_punct(")")
            count = True
        else:
            while True:
                if self.at_punct("("):
                    raise self.error(
                        message="unexpected token: '(' (sub-queries are not supported by the stand-in)"
                    )
                fields.append(self.field_ref())
                if self.at_punct(","):
                    self.advance()
                    continue
                break
        self.expect_keyword("FROM")
        obj = self.current
        if obj.kind != "ident" or obj.upper in KEYWORDS or "." in obj.text:
            raise self.error()
        self.advance()
        query = Query(sobject=obj.text, sobject_pos=obj.pos, fields=fields, count=count, text=self.query)
        if self.current.is_keyword("WHERE"):
            self.advance()
            query.where = self.condition()
        if self.current.is_keyword("ORDER"):
            self.advance()
            self.expect_keyword("BY")
            query.order_by = self.order_list()
        if self.current.is_keyword("LIMIT"):
            self.advance()
            query.limit = self.integer()
        if self.current.is_keyword("OFFSET"):
            self.advance()
            offset_token = self.current
            query.offset = self.integer()
            if query.offset > 2000:
                raise SoqlError(
                    self.query,
                    offset_token.pos,
                    "Maximum SOQL offset allowed is 2000",
                    "NUMBER_OUTSIDE_VALID_RANGE",
                )
        if self.current.kind != "eof":
            raise self.error()
        return query

    def order_list(self) -> list[OrderItem]:
        items: list[OrderItem] = []
        while True:
            ref = self.field_ref()
            descending = False
            nulls_last: bool | None = None
            if self.current.is_keyword("ASC", "DESC"):
                descending = self.advance().upper == "DESC"
            if self.current.is_keyword("NULLS"):
                self.advance()
                if not self.current.is_keyword("FIRST", "LAST"):
                    raise self.error()
                nulls_last = self.advance().upper == "LAST"
            items.append(OrderItem(ref, descending, nulls_last))
            if self.at_punct(","):
                self.advance()
                continue
            return items

    # conditions
    def condition(self) -> Condition:
        first = self.term()
        if not self.current.is_keyword("AND", "OR"):
            return first
        op = self.current.upper
        items = [first]
        while self.current.is_keyword("AND", "OR"):
            if self.current.upper != op:
                raise self.error(
                    message=f"unexpected token: '{self.current.text}' (use parentheses when mixing AND and OR)"
                )
            self.advance()
            items.append(self.term())
        return BoolOp(op, tuple(items))  # type: ignore[arg-type]

    def term(self) -> Condition:
        if self.current.is_keyword("NOT"):
            self.advance()
            return Not(self.term())
        if self.at_punct("("):
            self.advance()
            inner = self.condition()
            self.expect_punct(")")
            return inner
        return self.comparison()

    def comparison(self) -> Condition:
        ref = self.field_ref()
        token = self.current
        if token.kind == "op":
            self.advance()
            op = "!=" if token.text == "<>" else token.text
            return Comparison(ref, op, self.value())
        if token.is_keyword("LIKE"):
            self.advance()
            value = self.value()
            if value.kind != "string":
                raise self.error(message=f"unexpected token: '{value.text}' (LIKE needs a quoted string)")
            return Like(ref, value)
        negated = False
        if token.is_keyword("NOT"):
            self.advance()
            negated = True
            if not self.current.is_keyword("IN"):
                raise self.error()
        if self.current.is_keyword("IN"):
            self.advance()
            if self.at_punct(":") or not self.at_punct("("):
                raise self.error()
            self.expect_punct("(")
            values = [self.value()]
            while self.at_punct(","):
                self.advance()
                values.append(self.value())
            self.expect_punct(")")
            return InList(ref, tuple(values), negated)
        raise self.error()

    def value(self) -> Value:
        token = self.current
        if token.kind == "string":
            self.advance()
            return Value("string", token.value, token.text, token.pos, like_pattern=token.like_pattern)
        if token.kind == "number":
            self.advance()
            number: float | int = float(token.text) if "." in token.text else int(token.text)
            return Value("number", number, token.text, token.pos)
        if token.kind in ("datetime", "date"):
            self.advance()
            return Value(token.kind, token.text, token.text, token.pos)
        if token.kind == "ident":
            word = token.upper
            if word in ("TRUE", "FALSE"):
                self.advance()
                return Value("boolean", word == "TRUE", token.text, token.pos)
            if word == "NULL":
                self.advance()
                return Value("null", None, token.text, token.pos)
            if word in DATE_KEYWORDS:
                self.advance()
                return Value("date_literal", word, token.text, token.pos)
            if word in DATE_N_KEYWORDS:
                self.advance()
                self.expect_punct(":")
                n_token = self.current
                n = self.integer()
                return Value("date_literal", word, f"{token.text}:{n_token.text}", token.pos, n=n)
        raise self.error()


def parse(query: str) -> Query:
    """Parse a SOQL string into a :class:`Query`.

    :raises SoqlError: when the text is not in the supported subset.
    """
    if not query or not query.strip():
        raise SoqlError(query or "", 0, "unexpected token: '<EOF>'")
    return _Parser(query).parse()
