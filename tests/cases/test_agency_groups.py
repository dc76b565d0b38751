"""The agency groups through which a user holds grants: read once per request, given to the
visibility queries as values (so PostgreSQL plans with that agency's own number of grants),
and read again as soon as the user's groups change."""

from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from casebook.models import Agency
from cases import selectors
from cases.models import Case
from tests.conftest import client_for


def test_the_groups_are_read_once_per_user_object(investigator: Any, case: Case) -> None:
    with CaptureQueriesContext(connection) as queries:
        assert list(selectors.case_list(investigator)) == [case]
        assert selectors.case_count(investigator) == 1
        assert selectors.dashboard_counts(investigator)[case.status] == 1
    group_reads = [q for q in queries if '"auth_user_groups"' in q["sql"]]
    assert len(group_reads) == 1
    assert len(queries) == 4


def test_visibility_queries_name_the_groups_instead_of_looking_them_up(
    investigator: Any, pa_police: Agency
) -> None:
    sql = str(selectors.case_list(investigator).query)
    assert '"auth_user_groups"' not in sql
    assert f'"group_id" IN ({pa_police.group_id})' in sql


def test_adding_and_removing_a_group_takes_effect_on_the_same_user_object(
    outsider: Any, case: Case
) -> None:
    assert list(selectors.case_list(outsider)) == []
    outsider.groups.add(case.owner_agency.group)
    assert list(selectors.case_list(outsider)) == [case]
    outsider.groups.remove(case.owner_agency.group)
    assert list(selectors.case_list(outsider)) == []


def test_a_group_change_made_from_the_group_side_shows_on_the_next_request(
    outsider: Any, case: Case
) -> None:
    client = client_for(outsider)
    assert client.get(case.get_absolute_url()).status_code == 404
    case.owner_agency.group.user_set.add(outsider)
    assert client.get(case.get_absolute_url()).status_code == 200
    case.owner_agency.group.user_set.remove(outsider)
    assert client.get(case.get_absolute_url()).status_code == 404
    assert client.get(reverse("cases:list")).status_code == 200


def test_users_without_an_agency_group_see_nothing(django_user_model: Any, case: Case) -> None:
    loner = django_user_model.objects.create_user("loner", password="x")  # noqa: S106
    assert list(selectors.case_list(loner)) == []
    assert selectors.case_count(loner) == 0
    assert not selectors.can_see_protected(loner, case)
