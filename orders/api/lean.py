"""A lean validator for the items of a bulk request: the serializer's own rules, without its
per-item machinery (for 500 orders × 3 lines that machinery was most of a bulk request's time).

It is built from a serializer's fields (``lean_validator(OrderIn)``), so the rules stay written
once, in serializers.py. For each value it either returns exactly what the serializer would
return, or raises ``Unsure``: the caller then runs the serializer itself on that item, which
accepts it the slow way or produces the error messages. The lean path never writes an error, so
the messages and field keys are the serializer's by construction; tests/api/test_lean.py checks
that for accepted items both return the same data (values, types and decimal exponents).

What it handles itself (exact DRF classes only; a subclass might override anything):
CharField, EmailField, RegexField, IntegerField, DecimalField, ChoiceField, nested serializers
(``Serializer`` or ``StrictSerializer`` without their own ``to_internal_value``) and their
``many=True`` lists. Any other field is validated by calling the field's own ``run_validation``.
Only plain JSON types are taken the lean way (a number given as a string, for example, is
left to the serializer).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal

from django.core import validators as dj
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import fields as f
from rest_framework import serializers
from rest_framework import validators as drf_validators
from rest_framework.exceptions import ValidationError
from rest_framework.fields import SkipField, empty

from .serializers import StrictSerializer

# What CharField's ProhibitNullCharactersValidator and ProhibitSurrogateCharactersValidator refuse.
_NULL_OR_SURROGATE = re.compile("[\x00\ud800-\udfff]")
#: Integers past this are left to the serializer (str() of a huge int raises in DRF).
_INT_LIMIT = 10**18
_MISSING = object()


class Unsure(Exception):
    """The lean path does not vouch for this value: validate the item with the serializer."""


Check = Callable[[object], object]


def _value_checks(field) -> tuple[list[Callable[[object], bool]], list]:
    """The field's validators: the common ones as fast predicates, the rest to be called."""
    fast, other = [], []
    for validator in field.validators:
        kind = type(validator)
        limit = getattr(validator, "limit_value", None)
        if callable(limit):
            other.append(validator)
        elif kind is dj.MaxLengthValidator:
            fast.append(lambda v, n=limit: len(v) <= n)
        elif kind is dj.MinLengthValidator:
            fast.append(lambda v, n=limit: len(v) >= n)
        elif kind is dj.MaxValueValidator:
            fast.append(lambda v, n=limit: v <= n)
        elif kind is dj.MinValueValidator:
            fast.append(lambda v, n=limit: v >= n)
        elif kind in (dj.ProhibitNullCharactersValidator, drf_validators.ProhibitSurrogateCharactersValidator):
            fast.append(lambda v: _NULL_OR_SURROGATE.search(v) is None)
        else:
            other.append(validator)
    return fast, other


def _with_validators(convert: Check, field) -> Check:
    fast, other = _value_checks(field)

    def check(value):
        value = convert(value)
        for ok in fast:
            if not ok(value):
                raise Unsure
        for validator in other:
            try:
                if getattr(validator, "requires_context", False):
                    validator(value, field)
                else:
                    validator(value)
            except (ValidationError, DjangoValidationError):
                raise Unsure from None
        return value

    return check


def _char(field) -> Check:
    allow_blank, trim = field.allow_blank, field.trim_whitespace
    checked = _with_validators(lambda text: text, field)

    def check(value):
        if type(value) is not str:
            raise Unsure
        text = value.strip() if trim else value
        if value == "" or text == "":
            if not allow_blank:
                raise Unsure
            return ""
        return checked(text)

    return check


def _integer(field) -> Check:
    def convert(value):
        if type(value) is not int or not -_INT_LIMIT < value < _INT_LIMIT:
            raise Unsure
        return value

    return _with_validators(convert, field)


def _decimal(field) -> Check | None:
    if field.localize or field.max_digits is None or field.decimal_places is None:
        return None
    whole, places = field.max_whole_digits, field.decimal_places
    # Every string this matches has at most `whole` digits before the point and `places` after,
    # so DRF's precision checks pass and quantize() is exact.
    pattern = re.compile(rf"[0-9]{{1,{whole}}}(\.[0-9]{{1,{places}}})?" if places else rf"[0-9]{{1,{whole}}}")
    quantize = field.quantize

    def convert(value):
        kind = type(value)
        if kind is str:
            text = value.strip()
        elif kind is int or kind is float:
            text = str(value)
        else:
            raise Unsure
        if pattern.fullmatch(text) is None:
            raise Unsure
        return quantize(Decimal(text))

    return _with_validators(convert, field)


def _choice(field) -> Check:
    choices, allow_blank = field.choice_strings_to_values, field.allow_blank

    def convert(value):
        if type(value) is not str:
            raise Unsure
        if value == "" and allow_blank:
            return ""
        try:
            return choices[value]
        except KeyError:
            raise Unsure from None

    return _with_validators(convert, field)


def _delegated(field) -> Check:
    """The field's own run_validation (dates and times, anything not handled above)."""

    def check(value):
        try:
            return field.run_validation(value)
        except (ValidationError, DjangoValidationError, SkipField):
            raise Unsure from None

    return check


def _list(field: serializers.ListSerializer) -> Check | None:
    if not isinstance(field.child, serializers.Serializer) or not _plain(field, serializers.ListSerializer):
        return None
    kind = type(field)
    if (
        kind.to_internal_value is not serializers.ListSerializer.to_internal_value
        or kind.run_child_validation is not serializers.ListSerializer.run_child_validation
    ):
        return None
    child = _serializer(field.child)
    if child is None:
        return None
    allow_empty, max_length, min_length = field.allow_empty, field.max_length, field.min_length
    validate = None if type(field).validate is serializers.ListSerializer.validate else field.validate

    def check(value):
        if type(value) is not list:
            raise Unsure
        size = len(value)
        if (
            (size == 0 and not allow_empty)
            or (max_length is not None and size > max_length)
            or (min_length is not None and size < min_length)
        ):
            raise Unsure
        items = [child(item) for item in value]
        return _validated(validate, items)

    return check


def _validated(validate, value):
    """A serializer's validate() (None: not overridden); it must not return None."""
    if validate is None:
        return value
    value = _called(validate, value)
    if value is None:
        raise Unsure
    return value


def _called(method, value):
    try:
        return method(value)
    except (ValidationError, DjangoValidationError):
        raise Unsure from None


def _plain(instance, base) -> bool:
    """No override of the methods whose behaviour the lean path copies, and no extra validators."""
    kind = type(instance)
    return (
        all(
            getattr(kind, name) is getattr(base, name)
            for name in ("run_validation", "validate_empty_values", "run_validators")
        )
        and not instance.validators
    )


FIELD_CHECKS = {
    f.CharField: _char,
    f.EmailField: _char,
    f.RegexField: _char,
    f.IntegerField: _integer,
    f.DecimalField: _decimal,
    f.ChoiceField: _choice,
}


def _field(field) -> Check:
    if isinstance(field, serializers.ListSerializer):
        check = _list(field)
    elif isinstance(field, serializers.Serializer):
        check = _serializer(field)
    else:
        build = FIELD_CHECKS.get(type(field))
        check = build(field) if build else None
    return check or _delegated(field)


def _serializer(serializer: serializers.Serializer) -> Check | None:
    """The lean check for a whole serializer, or None when it does something not copied here."""
    kind = type(serializer)
    if kind.to_internal_value is StrictSerializer.to_internal_value:
        strict = True
    elif kind.to_internal_value is serializers.Serializer.to_internal_value:
        strict = False
    else:
        return None
    if not _plain(serializer, serializers.Serializer):
        return None
    known = frozenset(serializer.fields)
    plan = []
    for name, field in serializer.fields.items():
        if field.read_only:
            continue
        if field.source != name or field.source_attrs != [name]:
            return None
        if field.default is not empty and callable(field.default):
            return None
        extra = getattr(serializer, "validate_" + name, None)
        plan.append((name, field.required, field.default, field.allow_null, _field(field), extra))
    validate = None if kind.validate is serializers.Serializer.validate else serializer.validate

    def check(data):
        if type(data) is not dict or (strict and not known.issuperset(data)):
            raise Unsure
        out = {}
        for name, required, default, allow_null, check_value, extra in plan:
            value = data.get(name, _MISSING)
            if value is _MISSING:
                if required:
                    raise Unsure
                if default is empty:
                    continue
                value = default
            elif value is None:
                if not allow_null:
                    raise Unsure
            else:
                value = check_value(value)
            out[name] = value if extra is None else _called(extra, value)
        return _validated(validate, out)

    return check


def lean_validator(serializer_class) -> Check:
    """``check(item)``: the serializer's validated data for ``item``, or ``Unsure``.

    Raises TypeError when the serializer does something the lean path does not copy (a custom
    ``to_internal_value``, serializer validators…): then use the serializer itself."""
    check = _serializer(serializer_class())
    if check is None:
        raise TypeError(f"{serializer_class.__name__}: no lean validator for this serializer")
    return check
