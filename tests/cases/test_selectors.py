"""The permission-aware selectors: what each persona may see and do."""

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from cases import selectors
from cases.models import Case
from cases.permissions import CaseAccess
from tests.factories import make_case, make_entity, make_member


def actions_on(access: CaseAccess) -> set[str]:
    """The actions of the ``CaseAccess`` that ``get_case_access`` returned."""
    return set(access.actions)


def test_owner_agency_members_see_their_case(investigator: Any, analyst: Any, case: Case) -> None:
    assert list(selectors.case_list(investigator)) == [case]
    assert list(selectors.case_list(analyst)) == [case]


def test_outsider_agency_sees_nothing(outsider: Any, case: Case) -> None:
    assert list(selectors.case_list(outsider)) == []
    assert selectors.dashboard_counts(outsider)[Case.Status.OPEN] == 0
    with pytest.raises(Http404):
        selectors.get_case_access(outsider, case.uuid)


def test_outsider_gets_404_not_403_for_every_action(outsider: Any, case: Case) -> None:
    for action in selectors.ACTIONS:
        with pytest.raises(Http404):
            selectors.get_case_access(outsider, case.uuid, action=action)


def test_superuser_without_membership_sees_no_case(django_user_model: Any, case: Case) -> None:
    root = django_user_model.objects.create_superuser("root", "root@example.org", "x" * 16)
    assert list(selectors.case_list(root)) == []
    with pytest.raises(Http404):
        selectors.get_case_access(root, case.uuid)
    assert not selectors.can_see_protected(root, case)


def test_deactivated_member_sees_nothing(investigator: Any, case: Case) -> None:
    investigator.is_active = False
    investigator.save()
    assert list(selectors.case_list(investigator)) == []


def test_anonymous_user_sees_nothing(case: Case) -> None:
    from django.contrib.auth.models import AnonymousUser

    assert list(selectors.case_list(AnonymousUser())) == []


def test_analyst_may_view_but_not_change_or_contribute(analyst: Any, case: Case) -> None:
    assert actions_on(selectors.get_case_access(analyst, case.uuid)) == {"view"}
    for action in ("change", "contribute", "manage"):
        with pytest.raises(PermissionDenied):
            selectors.get_case_access(analyst, case.uuid, action=action)


def test_investigator_may_change_and_contribute_but_not_manage(
    investigator: Any, case: Case
) -> None:
    fetched = selectors.get_case_access(investigator, case.uuid, action="change")
    assert actions_on(fetched) == {"view", "change", "contribute", "view_protected"}


def test_supervisor_may_manage(supervisor: Any, case: Case) -> None:
    fetched = selectors.get_case_access(supervisor, case.uuid, action="manage")
    assert "manage" in actions_on(fetched)
    assert "change" not in actions_on(fetched)


def test_entities_of_a_case_are_not_reachable_through_another_case(
    investigator: Any, case: Case
) -> None:
    other = make_case(investigator, title="Other")
    entity = make_entity(investigator, other)
    with pytest.raises(Http404):
        selectors.get_entity_for_user(investigator, case.uuid, entity.uuid)


def test_protected_identities_need_role_and_grant(
    investigator: Any, analyst: Any, outsider: Any, case: Case
) -> None:
    assert selectors.can_see_protected(investigator, case)
    assert not selectors.can_see_protected(analyst, case)
    assert not selectors.can_see_protected(outsider, case)


def test_case_list_is_one_query_whatever_the_number_of_cases(
    investigator: Any, outsider: Any
) -> None:
    for n in range(12):
        make_case(investigator, title=f"Case {n}")
        make_case(outsider, title=f"Foreign {n}")
    with CaptureQueriesContext(connection) as queries:
        cases = list(selectors.case_list(investigator))
    assert len(cases) == 12
    # The agency's groups (read once per user object, i.e. per request), then the list.
    assert len(queries) == 2
    with CaptureQueriesContext(connection) as queries:
        assert len(list(selectors.case_list(investigator))) == 12
    assert len(queries) == 1


def test_filters_narrow_the_visible_list(investigator: Any, pa_police: Any) -> None:
    from casebook.models import Country

    darien = make_case(
        investigator,
        title="Darién route",
        countries=[Country.objects.get(code="CO")],
        status=Case.Status.INVESTIGATION,
    )
    make_case(investigator, title="Colón port", kind=Case.Kind.TRAFFICKING)
    only = selectors.case_list(investigator, filters=selectors.CaseFilters(country="CO"))
    assert list(only) == [darien]
    by_status = selectors.CaseFilters(status=Case.Status.INVESTIGATION)
    assert list(selectors.case_list(investigator, filters=by_status)) == [darien]
    assert list(
        selectors.case_list(investigator, filters=selectors.CaseFilters(text="colón"))
    ) == list(selectors.case_list(investigator, filters=selectors.CaseFilters(text="Colón")))


def test_member_of_two_agencies_is_not_possible_but_group_grants_follow_membership(
    cr_police: Any, case: Case
) -> None:
    # A user added to the owner's group by mistake, without being a member, sees the case:
    # grants belong to agency groups, and group membership is what the selectors read.
    # This documents why member_add/member_deactivate are the only ways to change groups.
    stray = make_member(cr_police, "investigator", username="stray")
    assert list(selectors.case_list(stray)) == []
    stray.groups.add(case.owner_agency.group)
    assert list(selectors.case_list(stray)) == [case]
