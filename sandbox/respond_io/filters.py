"""``POST /contact/list`` filters (``$and``/``$or`` of conditions) and ``search``.

Condition: ``{"category": "contactField"|"contactTag"|"lifecycle", "field", "operator", "value"}``.
Supported operators: isEqualTo, isNotEqualTo, exists, doesNotExist, hasAnyOf, hasAllOf, hasNoneOf,
isGreaterThan, isLessThan, isBetween, isTimestampAfter, isTimestampBefore, isTimestampBetween.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sandbox.respond_io.errors import validation_error

if TYPE_CHECKING:
    from sandbox.respond_io.store import Contact

__all__ = ["compile_filter", "compile_search"]

Predicate = Callable[["Contact"], bool]
CATEGORIES = ("contactField", "contactTag", "lifecycle")
OPERATORS = (
    "isEqualTo", "isNotEqualTo", "isTimestampAfter", "isTimestampBefore", "isTimestampBetween", "exists",
    "doesNotExist", "isGreaterThan", "isLessThan", "isBetween", "hasAnyOf", "hasAllOf", "hasNoneOf",
)  # fmt: skip
_ALIASES = {"created_at": "createdAt", "first_name": "firstName", "last_name": "lastName", "id": "id"}


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _range(value: Any) -> tuple[float | None, float | None]:
    if not isinstance(value, dict):
        raise validation_error("filter", "isBetween needs a value {from, to}")
    return _number(value.get("from")), _number(value.get("to"))


def _field_getter(field: str, email_fold: bool) -> Callable[[Contact], Any]:
    name = _ALIASES.get(field, field)
    if name == "id":
        return lambda c: c.id
    if name == "createdAt":
        return lambda c: c.created_at
    if name in ("firstName", "lastName", "phone", "email", "language", "profilePic", "countryCode", "status"):
        if name == "email" and email_fold:
            return lambda c: (c.fields.get("email") or "").lower() or None
        return lambda c: c.fields.get(name)
    return lambda c: c.custom.get(field)


def _norm(value: Any) -> Any:
    # Compare as text; numbers in canonical form so 42, 42.0 and "42" are equal.
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(int(value)) if float(value).is_integer() else str(float(value))
    return str(value)


def _compare(get: Callable[[Contact], Any], operator: str, value: Any, fold: bool) -> Predicate:
    def norm(v: Any) -> Any:
        v = _norm(v)
        return v.lower() if fold and isinstance(v, str) else v

    if operator in ("isEqualTo", "isNotEqualTo", "hasAnyOf", "hasNoneOf"):
        wanted = {norm(v) for v in _as_list(value)}
        if operator in ("isEqualTo", "hasAnyOf"):
            return lambda c: norm(get(c)) in wanted
        return lambda c: norm(get(c)) not in wanted
    if operator == "exists":
        return lambda c: get(c) not in (None, "")
    if operator == "doesNotExist":
        return lambda c: get(c) in (None, "")
    if operator in ("isGreaterThan", "isTimestampAfter"):
        bound = _number(value)
        return lambda c: (n := _number(get(c))) is not None and bound is not None and n > bound
    if operator in ("isLessThan", "isTimestampBefore"):
        bound = _number(value)
        return lambda c: (n := _number(get(c))) is not None and bound is not None and n < bound
    if operator in ("isBetween", "isTimestampBetween"):
        low, high = _range(value)
        return lambda c: (
            (n := _number(get(c))) is not None and (low is None or n >= low) and (high is None or n <= high)
        )
    raise validation_error("filter", f"operator {operator} is not supported for this category")


def _tag_predicate(operator: str, value: Any) -> Predicate:
    wanted = set(_as_list(value))
    if operator in ("hasAnyOf", "isEqualTo"):
        return lambda c: bool(wanted.intersection(c.tags))
    if operator == "hasAllOf":
        return lambda c: wanted.issubset(c.tags)
    if operator in ("hasNoneOf", "isNotEqualTo"):
        return lambda c: not wanted.intersection(c.tags)
    if operator == "exists":
        return lambda c: bool(c.tags)
    if operator == "doesNotExist":
        return lambda c: not c.tags
    raise validation_error("filter", f"operator {operator} is not supported for contactTag")


def _condition(cond: Any, email_fold: bool) -> Predicate:
    if not isinstance(cond, dict):
        raise validation_error("filter", "each condition must be an object")
    if "$and" in cond or "$or" in cond:
        return compile_filter(cond, email_fold=email_fold)
    category, operator = cond.get("category"), cond.get("operator")
    if category not in CATEGORIES:
        raise validation_error("filter", "category must be one of " + ", ".join(CATEGORIES))
    if operator not in OPERATORS:
        raise validation_error("filter", "unknown operator")
    value = cond.get("value")
    if category == "contactTag":
        return _tag_predicate(operator, value)
    if category == "lifecycle":
        return _compare(lambda c: c.fields.get("lifecycle"), operator, value, False)
    field = cond.get("field")
    if not isinstance(field, str) or not field:
        raise validation_error("filter", "a contactField condition needs a field")
    fold = field == "email" and email_fold
    return _compare(_field_getter(field, fold), operator, value, fold)


def compile_filter(spec: Any, *, email_fold: bool = True) -> Predicate:
    """Compile ``{"$and": [...]}`` / ``{"$or": [...]}`` (nested groups allowed) into a predicate.

    An empty or missing group matches every contact (n8n sends ``{"$or": []}`` for "no filter").

    :param email_fold: compare ``email`` case-insensitively.
    :raises ApiError: 400 on an unknown category/operator or malformed filter.
    """
    if spec is None or spec == {}:
        return lambda c: True
    if not isinstance(spec, dict):
        raise validation_error("filter", "filter must be an object with $and or $or")
    unknown = set(spec) - {"$and", "$or"}
    if unknown:
        raise validation_error("filter", "filter accepts only $and and $or")
    preds: list[Predicate] = []
    for key in ("$and", "$or"):
        if key not in spec:
            continue
        items = spec[key]
        if not isinstance(items, list):
            raise validation_error("filter", f"{key} must be an array")
        if not items:
            continue
        subs = [_condition(item, email_fold) for item in items]
        if key == "$and":
            preds.append(lambda c, subs=subs: all(p(c) for p in subs))
        else:
            preds.append(lambda c, subs=subs: any(p(c) for p in subs))
    return lambda c: all(p(c) for p in preds)


def compile_search(search: Any) -> Predicate:
    """Case-insensitive substring match over first/last/full name, email and phone (empty → all)."""
    if search is None or search == "":
        return lambda c: True
    if not isinstance(search, str):
        raise validation_error("search", "search must be a string")
    needle = search.strip().lower()

    def match(c: Contact) -> bool:
        f = c.fields
        first, last = f.get("firstName") or "", f.get("lastName") or ""
        hay = (first, last, f"{first} {last}".strip(), f.get("email") or "", f.get("phone") or "")
        return any(needle in h.lower() for h in hay)

    return match
