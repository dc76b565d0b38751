"""Counting and paging the visible cases: ``visible_case_ids``, ``case_count``, ``CaseResults``
must always agree with ``case_list``, the list the user may see."""

import datetime
from typing import Any

import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from casebook.models import Agency, Country
from cases import selectors
from cases.models import Case, CaseGroupObjectPermission
from cases.selectors import CASE_ORDERINGS, CaseFilters, CaseResults, permission_id
from tests.conftest import client_for
from tests.factories import AgencyFactory, make_case


def grant(case: Case, agency: Agency, codename: str = "view_case", **values: Any) -> None:
    CaseGroupObjectPermission.objects.create(
        content_object=case, group=agency.group, permission_id=permission_id(codename), **values
    )


def visible_ids(user: Any) -> set[int]:
    return set(
        Case.objects.filter(pk__in=selectors.visible_case_ids(user)).values_list("pk", flat=True)
    )


@pytest.fixture
def cases_of_both_agencies(investigator: Any, outsider: Any, pa_police: Agency) -> list[Case]:
    """Four cases of Panama, three of Costa Rica, one of which Costa Rica shares with Panama."""
    panama = [
        make_case(investigator, title=f"Panama {n}", status=status, kind=kind)
        for n, (status, kind) in enumerate(
            [
                (Case.Status.OPEN, Case.Kind.SMUGGLING),
                (Case.Status.OPEN, Case.Kind.TRAFFICKING),
                (Case.Status.CLOSED, Case.Kind.SMUGGLING),
                (Case.Status.INVESTIGATION, Case.Kind.BOTH),
            ]
        )
    ]
    costa_rica = [make_case(outsider, title=f"Costa Rica {n}") for n in range(3)]
    grant(costa_rica[0], pa_police)
    return panama + costa_rica


def test_visible_case_ids_are_the_cases_of_case_list(
    investigator: Any, analyst: Any, outsider: Any, cases_of_both_agencies: list[Case]
) -> None:
    for user in (investigator, analyst, outsider):
        assert visible_ids(user) == {case.pk for case in selectors.case_list(user)}
    assert len(visible_ids(investigator)) == 5
    assert len(visible_ids(outsider)) == 3


def test_visible_case_ids_leave_out_expired_grants(
    investigator: Any, outsider: Any, cr_police: Agency
) -> None:
    now = timezone.now()
    expired, live = make_case(investigator), make_case(investigator)
    grant(expired, cr_police, expires_at=now - datetime.timedelta(minutes=1))
    grant(live, cr_police, expires_at=now + datetime.timedelta(days=1))
    assert visible_ids(outsider) == {live.pk}
    assert selectors.case_count(outsider) == 1 == selectors.case_list(outsider).count()


def test_visible_case_ids_for_another_permission(
    investigator: Any, outsider: Any, case: Case, cr_police: Agency
) -> None:
    grant(case, cr_police)
    assert visible_ids(outsider) == {case.pk}
    contribute = selectors.visible_case_ids(outsider, codename="contribute_case")
    assert not contribute.exists()


def test_nobody_without_an_agency_sees_any_id(
    django_user_model: Any, case: Case, investigator: Any
) -> None:
    stranger = django_user_model.objects.create_user("stranger", password="x")
    assert visible_ids(stranger) == set()
    investigator.is_active = False
    assert visible_ids(investigator) == set()


@pytest.mark.parametrize(
    "filters",
    [
        CaseFilters(),
        CaseFilters(order="title"),
        CaseFilters(status=Case.Status.OPEN),
        CaseFilters(kind=Case.Kind.SMUGGLING),
        CaseFilters(country="PA"),
        CaseFilters(text="panama 1"),
        CaseFilters(status=Case.Status.ARCHIVED),
    ],
)
def test_case_count_is_the_length_of_case_list(
    investigator: Any,
    analyst: Any,
    outsider: Any,
    cases_of_both_agencies: list[Case],
    filters: CaseFilters,
) -> None:
    for user in (investigator, analyst, outsider):
        assert selectors.case_count(user, filters=filters) == len(
            selectors.case_list(user, filters=filters)
        )


def test_unfiltered_count_is_one_query_on_the_grants(
    investigator: Any, cases_of_both_agencies: list[Case]
) -> None:
    selectors.live_grants(investigator)  # reads the agency's groups, once per user object
    with CaptureQueriesContext(connection) as queries:
        assert selectors.case_count(investigator) == 5
    assert len(queries) == 1
    assert '"cases_case"' not in queries[0]["sql"]


def test_a_case_shared_twice_with_the_agency_is_counted_once(
    investigator: Any, outsider: Any, pa_police: Agency
) -> None:
    foreign = make_case(outsider)
    grant(foreign, pa_police)
    # A second group of the same agency's member holding the same grant.
    second: Any = AgencyFactory(country=Country.objects.get(code="PA"), name="Second")
    investigator.groups.add(second.group)
    grant(foreign, second)
    assert selectors.case_count(investigator) == 1 == len(selectors.case_list(investigator))


@pytest.mark.parametrize("order", sorted(CASE_ORDERINGS))
def test_case_results_pages_are_the_slices_of_case_list(
    investigator: Any, outsider: Any, pa_police: Agency, order: str
) -> None:
    for n in range(7):
        make_case(investigator, title=f"Case {n % 3}", opened_on=datetime.date(2026, 1, 1 + n % 2))
        grant(make_case(outsider, title=f"Shared {n}"), pa_police)
        make_case(outsider, title=f"Foreign {n}")
    filters = CaseFilters(order=order)
    expected = list(selectors.case_list(investigator, filters=filters))
    assert len(expected) == 14
    paginator = Paginator(CaseResults(investigator, filters), 5)
    assert paginator.count == 14
    pages = [list(paginator.page(number)) for number in paginator.page_range]
    assert [len(page) for page in pages] == [5, 5, 4]
    assert sum(pages, []) == expected


def test_case_results_with_a_country_filter_give_each_case_once(
    investigator: Any, pa_police: Agency
) -> None:
    colombia, panama = Country.objects.get(code="CO"), Country.objects.get(code="PA")
    for n in range(4):
        make_case(investigator, title=f"Route {n}", countries=[colombia, panama])
    filters = CaseFilters(country="PA")
    results = CaseResults(investigator, filters)
    assert results.count() == 4
    assert results[0:10] == list(selectors.case_list(investigator, filters=filters))


def test_case_results_index_like_a_list(investigator: Any, case: Case) -> None:
    results = CaseResults(investigator)
    assert results[25:50] == []
    assert len(results) == 1
    assert results[0] == case
    assert list(results) == [case]
    with pytest.raises(IndexError):
        results[1]  # noqa: B018


def test_case_results_slices_come_with_the_owner_agency(investigator: Any, case: Case) -> None:
    [page_case] = CaseResults(investigator)[0:25]
    with CaptureQueriesContext(connection) as queries:
        assert page_case.owner_agency.country.name == "Panama"
    assert len(queries) == 0


def test_deep_pages_of_the_case_list_show_the_right_cases_in_as_many_queries_as_the_first(
    investigator: Any,
) -> None:
    for n in range(60):
        make_case(investigator, title=f"Case {n:02d}")
    client = client_for(investigator)
    url = reverse("cases:list")
    expected = list(selectors.case_list(investigator))
    with CaptureQueriesContext(connection) as first:
        response = client.get(url)
    assert list(response.context["page"]) == expected[:25]
    with CaptureQueriesContext(connection) as last:
        response = client.get(url, {"page": "3"})
    assert list(response.context["page"]) == expected[50:]
    assert response.context["page"].paginator.count == 60
    assert "Cases 51–60 of 60" in response.content.decode()
    assert len(last) == len(first)


def test_unfiltered_case_list_query_count_does_not_grow_with_the_cases(
    investigator: Any, outsider: Any, pa_police: Agency
) -> None:
    make_case(investigator)
    client = client_for(investigator)
    url = reverse("cases:list")
    client.get(url)
    with CaptureQueriesContext(connection) as with_one:
        client.get(url)
    for _n in range(30):
        make_case(investigator)
        grant(make_case(outsider), pa_police)
    with CaptureQueriesContext(connection) as with_many:
        response = client.get(url, {"page": "2"})
    assert response.context["page"].number == 2
    assert len(with_many) == len(with_one)
    assert len(with_one) <= 12
