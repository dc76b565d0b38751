"""Every list page takes whatever a user can type in its query string without a 500: page
numbers are clamped, sort keys and page sizes come from an allow-list, and a date out of range
is an error next to its field in the user's language (``casebook.listparams``)."""

import datetime
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from casebook import listparams
from casebook.models import AccessLog
from cases.models import Case
from tests.conftest import client_for

HOSTILE_VALUES = [
    "99999999999999999999",
    "-1",
    "0",
    "abc",
    "1e400",
    "9999-12-31",
    "0000-01-01",
    "1899-12-31",
    "2101-01-01",
    "unknown",
    "x" * 5000,
    "9" * 5000,
    "a\x00b",
    "\x00",
    "",
]
OVERFLOWING_VALUES = ["99999999999999999999", "9999-12-31", "0000-01-01"]
NUMBERS_AND_DATES = ["page", "per_page", "date_from", "date_to"]
PARAMETERS = [
    "page",
    "per_page",
    "sort",
    "order",
    "date_from",
    "date_to",
    "user",
    "case",
    "action",
    "q",
    "status",
    "kind",
    "country",
    "dismissed",
    "object",
]


def list_urls(case: Case) -> list[str]:
    """Every page that lists rows and reads its query string."""
    return [
        reverse("access_log"),
        reverse("access_log_export"),
        reverse("notifications"),
        reverse("members"),
        reverse("cases:list"),
        reverse("cases:hits"),
        reverse("cases:common_keys"),
        reverse("cases:history", kwargs={"case": case.uuid}),
        reverse("cases:timeline", kwargs={"case": case.uuid}),
    ]


def read(client: Client, url: str, query: dict[str, str]) -> int:
    response = client.get(url, query)
    if hasattr(response, "streaming_content"):
        b"".join(response.streaming_content)  # a streamed export fails while it is read
    return response.status_code


def test_no_list_page_answers_500_to_any_hostile_parameter(supervisor: Any, case: Case) -> None:
    """Every hostile value in every parameter at once, then the values that overflow (a page
    number, a date) in each parameter alone: one bad field must not hide another."""
    client = client_for(supervisor)
    client.raise_request_exception = False
    queries = [{name: value for name in PARAMETERS} for value in HOSTILE_VALUES]
    queries += [{name: value} for name in NUMBERS_AND_DATES for value in OVERFLOWING_VALUES]
    failures = []

    for url in list_urls(case):
        assert read(client, url, {}) == 200, url  # the page itself, not a refusal
        for query in queries:
            status = read(client, url, query)
            if status >= 500:
                failures.append(f"{url} {str(query)[:80]}: {status}")

    assert failures == []


@pytest.mark.parametrize("page", ["99999999999999999999", "-1", "abc", "\x00", "9" * 5000])
def test_the_access_log_answers_a_hostile_page_number_with_a_page(
    supervisor: Any, page: str
) -> None:
    response = client_for(supervisor).get(reverse("access_log"), {"page": page})

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("field", "value"),
    [("date_to", "9999-12-31"), ("date_from", "1899-12-31"), ("date_to", "2101-01-01")],
)
def test_a_date_out_of_range_is_an_error_next_to_its_field_and_the_filter_is_ignored(
    investigator: Any, supervisor: Any, case: Case, field: str, value: str
) -> None:
    AccessLog.objects.create(
        user=investigator,
        username=investigator.username,
        agency_id=investigator.member.agency_id,
        action=AccessLog.Action.VIEW,
        object_type="case",
    )

    response = client_for(supervisor).get(reverse("access_log"), {field: value})

    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors[field] == ["Enter a date between 1900-01-01 and 2100-12-31."]
    assert "This filter was ignored." in response.content.decode()
    assert any(entry.username == investigator.username for entry in response.context["page"])


def test_the_date_error_is_shown_next_to_its_field(supervisor: Any) -> None:
    response = client_for(supervisor).get(reverse("access_log"), {"date_to": "9999-12-31"})

    html = response.content.decode()
    error = html[html.index('id="id_date_to_error"') :]
    assert error.index("Enter a date between 1900-01-01 and 2100-12-31.") < error.index("</div>")
    assert 'aria-invalid="true"' in html


def test_the_export_ignores_a_date_out_of_range_instead_of_failing(supervisor: Any) -> None:
    response: Any = client_for(supervisor).get(
        reverse("access_log_export"), {"date_to": "9999-12-31"}
    )

    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"time_utc,")


@pytest.mark.parametrize(
    ("value", "number"),
    [
        (None, 1),
        ("", 1),
        ("abc", 1),
        ("\x00", 1),
        ("1.5", 1),
        ("0", 1),
        ("-1", 1),
        (" 3 ", 3),
        ("42", 42),
        ("99999999999999999999", listparams.MAX_PAGE),
        ("9" * 5000, 1),
    ],
)
def test_a_page_number_is_an_int_between_1_and_the_last_page(
    value: str | None, number: int
) -> None:
    query = {} if value is None else {"page": value}

    assert listparams.page_number(query) == number


def test_a_page_number_beyond_the_last_page_is_the_last_page() -> None:
    assert listparams.page_number({"page": "12"}, last=7) == 7
    assert listparams.page_number({"page": "12"}, last=0) == 1


def test_a_page_size_or_sort_key_outside_the_allow_list_is_the_default() -> None:
    sizes = {25, 50, 100}
    assert listparams.per_page({"per_page": "50"}, default=25, allowed=sizes) == 50
    assert listparams.per_page({"per_page": "1000000"}, default=25, allowed=sizes) == 25
    assert listparams.per_page({"per_page": "x"}, default=25, allowed=sizes) == 25
    keys = ("newest", "reference")
    assert listparams.sort_key({"sort": "reference"}, default="newest", allowed=keys) == "reference"
    assert listparams.sort_key({"sort": "password"}, default="newest", allowed=keys) == "newest"
    assert listparams.sort_key({}, default="newest", allowed=keys) == "newest"


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("1900-01-01", True),
        ("2100-12-31", True),
        ("2026-05-10", True),
        ("1899-12-31", False),
        ("2101-01-01", False),
        ("9999-12-31", False),
        ("0000-01-01", False),
        ("10/05/2026", False),
        ("2026-05-10\x00", False),
    ],
)
def test_a_date_filter_is_an_iso_date_within_the_sane_range(value: str, valid: bool) -> None:
    field = listparams.DateField(required=False)

    if valid:
        assert field.clean(value) == datetime.date.fromisoformat(value)
    else:
        with pytest.raises(Exception) as raised:
            field.clean(value)
        assert raised.type.__name__ == "ValidationError"
