"""The query-string parameters of list pages, clamped and validated in one place.

Every list page (the case list, hits, notifications, members, the access log) reads its page
number, page size, sort key and date filters through these functions, so that nothing a user
can type reaches the database as an unbounded number or a date Python cannot step past: a
page number is an int between 1 and ``MAX_PAGE`` (anything else is page 1), a sort key or a
page size is one of an allow-list (anything else is the default), and a date filter is an ISO
date between ``MIN_DATE`` and ``MAX_DATE`` (anything else is a form error next to the field,
in the user's language, and the filter is ignored). Never an exception, never a 500.
"""

import datetime
from collections.abc import Collection, Mapping
from typing import Any, TypeVar

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Far beyond any real list; small enough that (page - 1) * size fits any database integer.
MAX_PAGE = 100_000
MIN_DATE = datetime.date(1900, 1, 1)
MAX_DATE = datetime.date(2100, 12, 31)

T = TypeVar("T")


def page_number(query: Mapping[str, Any], name: str = "page", *, last: int = MAX_PAGE) -> int:
    """``query[name]`` as a page number between 1 and ``last``: a non-number (text, empty,
    missing, a NUL byte) is page 1, a number beyond the bounds is the nearest bound."""
    number = _integer(query.get(name))
    if number is None:
        return 1
    return min(max(number, 1), max(last, 1))


def per_page(
    query: Mapping[str, Any], name: str = "per_page", *, default: int, allowed: Collection[int]
) -> int:
    """``query[name]`` as a page size if it is one of ``allowed``, else ``default``."""
    number = _integer(query.get(name))
    return number if number is not None and number in allowed else default


def sort_key(
    query: Mapping[str, Any], name: str = "sort", *, default: T, allowed: Collection[T]
) -> T:
    """``query[name]`` if it is one of the ``allowed`` sort keys, else ``default``."""
    value = query.get(name)
    for key in allowed:
        if value == key:
            return key
    return default


def _integer(value: object) -> int | None:
    """``value`` as an int, or ``None``. Python refuses to parse more than 4,300 digits, so
    a huge string costs nothing; the callers clamp what it says."""
    try:
        return int(str(value).strip()) if value is not None else None
    except ValueError:
        return None


class DateField(forms.DateField):
    """A date filter: an ISO date between ``MIN_DATE`` and ``MAX_DATE``, else a form error in
    the user's language. Year 9999 cannot be stepped past (the end of its last day
    overflows), and years before 1900 are typing mistakes."""

    default_error_messages = {
        "out_of_range": _("Enter a date between %(first)s and %(last)s."),
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("input_formats", ["%Y-%m-%d"])
        widget = forms.DateInput(
            format="%Y-%m-%d",
            attrs={"type": "date", "min": MIN_DATE.isoformat(), "max": MAX_DATE.isoformat()},
        )
        kwargs.setdefault("widget", widget)
        super().__init__(**kwargs)

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value is not None and not MIN_DATE <= value <= MAX_DATE:
            raise ValidationError(
                self.error_messages["out_of_range"],
                code="out_of_range",
                params={"first": MIN_DATE.isoformat(), "last": MAX_DATE.isoformat()},
            )
