"""Signing in, the dashboard, and the friendly error pages."""

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases import selectors
from cases.models import Case, CaseGroupObjectPermission
from tests.conftest import client_for
from tests.factories import PASSWORD, make_case


def dashboard_queries(user: Any) -> int:
    client = client_for(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    return len(queries)


def grant_view(case: Case, agency: Any) -> None:
    """What sharing (a later issue) will do: give another agency a view grant on a case."""
    CaseGroupObjectPermission.objects.create(
        content_object=case, group=agency.group, permission_id=selectors.permission_id("view_case")
    )


# --- signing in ----------------------------------------------------------------------------


def test_login_page_shows_a_sign_in_form(db: Any) -> None:
    response = Client().get(reverse("login"))
    assert response.status_code == 200
    content = response.content.decode()
    assert 'name="username"' in content
    assert 'name="password"' in content
    assert 'autocomplete="current-password"' in content


def test_member_signs_in_and_lands_on_the_dashboard(investigator: Any) -> None:
    response = Client().post(
        reverse("login"), {"username": investigator.username, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")


def test_wrong_password_is_refused_with_a_clear_error(investigator: Any) -> None:
    response = Client().post(
        reverse("login"), {"username": investigator.username, "password": "not-the-password"}
    )
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert "is-invalid" in response.content.decode()


def test_sign_out_is_a_post_and_ends_the_session(investigator: Any) -> None:
    client = client_for(investigator)
    assert client.post(reverse("logout")).status_code == 302
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_anonymous_user_is_sent_to_sign_in(db: Any) -> None:
    response = Client().get(reverse("dashboard"))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={reverse('dashboard')}"


# --- the dashboard ---------------------------------------------------------------------------


def test_dashboard_lists_the_agencys_open_cases(investigator: Any, case: Case) -> None:
    closed = make_case(investigator, title="Closed labour exploitation case", status="closed")
    response = client_for(investigator).get(reverse("dashboard"))
    assert response.status_code == 200
    assert response.context["open_cases"] == [case]
    assert closed in list(response.context["recent_cases"])
    content = response.content.decode()
    assert case.reference in content
    assert case.get_absolute_url() in content


def test_dashboard_open_cases_are_those_of_the_users_own_agency(
    investigator: Any, outsider: Any, cr_police: Any, case: Case
) -> None:
    own = make_case(outsider, title="Recruitment of minors in Limón")
    grant_view(case, cr_police)
    response = client_for(outsider).get(reverse("dashboard"))
    assert response.context["open_cases"] == [own]
    assert set(response.context["recent_cases"]) == {own, case}


def test_dashboard_open_cases_take_open_investigation_and_prosecution(investigator: Any) -> None:
    cases = {
        status: make_case(investigator, title=f"Case {status}", status=status)
        for status in Case.Status.values
    }
    shown = selectors.agency_open_cases(investigator)
    assert set(shown) == {cases["open"], cases["investigation"], cases["prosecution"]}


def test_dashboard_open_cases_are_the_latest_ten(investigator: Any) -> None:
    made = [make_case(investigator, title=f"Case {n}") for n in range(12)]
    shown = selectors.agency_open_cases(investigator)
    assert shown == list(reversed(made))[:10]


def test_dashboard_counts_cases_by_status_with_links_to_the_filtered_list(
    investigator: Any, case: Case
) -> None:
    make_case(investigator, title="In court", status="prosecution")
    response = client_for(investigator).get(reverse("dashboard"))
    counts = {value: count for value, _label, count in response.context["status_counts"]}
    assert counts["open"] == 1
    assert counts["prosecution"] == 1
    assert counts["closed"] == 0
    assert response.context["total_cases"] == 2
    content = response.content.decode()
    for status in Case.Status.values:
        assert f"{reverse('cases:list')}?status={status}" in content


def test_outsider_dashboard_shows_nothing_of_another_agencys_case(
    outsider: Any, case: Case
) -> None:
    response = client_for(outsider).get(reverse("dashboard"))
    assert response.status_code == 200
    assert case.reference not in response.content.decode()
    assert response.context["total_cases"] == 0


def test_user_without_an_agency_is_told_so_and_sees_no_case_data(
    django_user_model: Any, case: Case
) -> None:
    root = django_user_model.objects.create_superuser("root", "root@example.org", "x" * 16)
    response = client_for(root).get(reverse("dashboard"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "You belong to no agency" in content
    assert case.reference not in content
    assert case.title not in content
    assert "open_cases" not in response.context


def test_new_case_button_is_shown_only_to_those_who_may_create_cases(
    investigator: Any, analyst: Any
) -> None:
    create = reverse("cases:create")
    assert create in client_for(investigator).get(reverse("dashboard")).content.decode()
    assert create not in client_for(analyst).get(reverse("dashboard")).content.decode()


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_dashboard_only_answers_get(investigator: Any, method: str) -> None:
    response = getattr(client_for(investigator), method)(reverse("dashboard"))
    assert response.status_code == 405


def test_dashboard_query_count_does_not_grow_with_the_cases(investigator: Any) -> None:
    for n in range(3):
        make_case(investigator, title=f"Case {n}")
    few = dashboard_queries(investigator)
    for n in range(57):
        make_case(investigator, title=f"More {n}", status=Case.Status.values[n % 5])
    assert dashboard_queries(investigator) == few
    # 10 + 1 for the latest cross-case hits (none here) + 1 for the agency's groups (read
    # once per request by cases.selectors).
    assert few <= 12


# --- error pages -----------------------------------------------------------------------------


def test_404_page_is_friendly_and_discloses_nothing(investigator: Any) -> None:
    response = client_for(investigator).get("/no/such/page/")
    assert response.status_code == 404
    content = response.content.decode()
    assert "Page not found" in content
    assert reverse("dashboard") in content
    assert "Traceback" not in content
    assert "/no/such/page/" not in content


def test_403_page_is_friendly_and_discloses_nothing(analyst: Any) -> None:
    response = client_for(analyst).get(reverse("members"))
    assert response.status_code == 403
    content = response.content.decode()
    assert "You may not do this" in content
    assert "You may not manage the members" not in content
