"""Raising a case's handling code: the shares the new code does not allow are conflicts the
owner decides on (revoke or keep), in the service and on the case edit page; only the owner
agency changes the code."""

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from casebook.models import Agency, Notification
from cases import selectors, services
from cases.models import Case, CaseShare
from cases.selectors import case_access
from tests.cases.sharing_helpers import Code, Level, actions, reloaded, share, stored
from tests.conftest import client_for
from tests.factories import make_case

# --- raising the handling code ---------------------------------------------------------------


@pytest.fixture
def green_world(
    investigator: Any,
    supervisor: Any,
    cr_police: Agency,
    cr_supervisor: Any,
    cr_prosecution: Agency,
    gt_police: Agency,
) -> dict[str, Any]:
    """A GREEN case shared by its owner with CR police (manage), which re-shared it within
    Costa Rica and to Guatemala."""
    the_case = make_case(investigator, handling_code=Code.GREEN)
    owner_share = share(supervisor, the_case, cr_police, Level.MANAGE)
    in_country = share(cr_supervisor, the_case, cr_prosecution)
    abroad = share(cr_supervisor, the_case, gt_police)
    return {"case": the_case, "owner": owner_share, "in_country": in_country, "abroad": abroad}


def test_raising_green_to_amber_conflicts_with_reshares_to_other_countries_only(
    green_world: dict[str, Any],
) -> None:
    conflicts = selectors.code_change_conflicts(green_world["case"], Code.AMBER)
    assert conflicts == [green_world["abroad"]]


@pytest.mark.parametrize("code", [Code.AMBER_STRICT, Code.RED])
def test_raising_to_amber_strict_or_red_conflicts_with_every_reshare(
    code: str, green_world: dict[str, Any]
) -> None:
    conflicts = selectors.code_change_conflicts(green_world["case"], code)
    assert set(conflicts) == {green_world["in_country"], green_world["abroad"]}


@pytest.mark.parametrize("code", [Code.GREEN, Code.CLEAR])
def test_lowering_or_keeping_the_code_conflicts_with_nothing(
    code: str, green_world: dict[str, Any]
) -> None:
    assert selectors.code_change_conflicts(green_world["case"], code) == []


def test_raising_the_code_without_a_decision_is_refused_and_changes_nothing(
    green_world: dict[str, Any], investigator: Any
) -> None:
    the_case = green_world["case"]
    before = stored()
    with pytest.raises(ValidationError) as caught:
        services.case_set_handling_code(access=case_access(investigator, the_case), code=Code.RED)
    assert "conflicting_shares" in caught.value.message_dict
    assert stored() == before
    the_case.refresh_from_db()
    assert the_case.handling_code == Code.GREEN


def test_raising_the_code_and_revoking_ends_the_conflicting_shares(
    green_world: dict[str, Any], investigator: Any, gt_police: Agency
) -> None:
    the_case = green_world["case"]
    revoked = services.case_set_handling_code(
        access=case_access(investigator, the_case), code=Code.AMBER, revoke_conflicting=True
    )
    assert revoked == [green_world["abroad"]]
    the_case.refresh_from_db()
    assert the_case.handling_code == Code.AMBER
    green_world["abroad"].refresh_from_db()
    assert green_world["abroad"].end_reason == CaseShare.EndReason.REVOKED
    green_world["in_country"].refresh_from_db()
    assert green_world["in_country"].ended_at is None
    assert Notification.objects.filter(
        agency=gt_police, kind=Notification.Kind.SHARE_REVOKED
    ).exists()
    assert the_case.history.first().history_change_reason == (
        "revoked 1 shares the new handling code does not allow"
    )


def test_raising_the_code_and_keeping_records_the_decision_in_the_history(
    green_world: dict[str, Any], investigator: Any
) -> None:
    the_case = green_world["case"]
    before = stored()
    services.case_set_handling_code(
        access=case_access(investigator, the_case), code=Code.RED, revoke_conflicting=False
    )
    assert stored() == before
    record = the_case.history.first()
    assert record.handling_code == Code.RED
    assert record.history_user == investigator
    assert record.history_change_reason == "kept 2 shares the new handling code would not allow"


def test_only_the_owner_agency_may_change_the_handling_code(
    green_world: dict[str, Any], cr_investigator: Any
) -> None:
    the_case = green_world["case"]
    assert "change" in actions(cr_investigator, the_case)
    with pytest.raises(ValidationError) as caught:
        services.case_set_handling_code(
            access=case_access(cr_investigator, the_case), code=Code.CLEAR
        )
    assert "handling_code" in caught.value.message_dict


def test_case_update_refuses_the_handling_code_so_the_share_decision_cannot_be_bypassed(
    green_world: dict[str, Any], investigator: Any
) -> None:
    the_case = green_world["case"]
    versions = the_case.history.count()
    with pytest.raises(TypeError):
        services.case_update(access=case_access(investigator, the_case), handling_code=Code.RED)
    the_case.refresh_from_db()
    assert the_case.handling_code == Code.GREEN
    assert the_case.history.count() == versions
    assert reloaded(green_world["abroad"]).ended_at is None


def test_a_refused_code_change_stores_none_of_the_other_changes_of_the_edit(
    green_world: dict[str, Any], investigator: Any
) -> None:
    the_case = green_world["case"]
    title = the_case.title
    before = stored()
    with pytest.raises(ValidationError) as caught:
        services.case_update_with_code(
            access=case_access(investigator, the_case), handling_code=Code.RED, title="Renamed"
        )
    assert "conflicting_shares" in caught.value.message_dict
    the_case.refresh_from_db()
    assert (the_case.handling_code, the_case.title) == (Code.GREEN, title)
    assert stored() == before


# --- raising the handling code on the case edit page ---------------------------------------


def edit_data(the_case: Case, **values: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": the_case.title,
        "kind": the_case.kind,
        "status": the_case.status,
        "handling_code": the_case.handling_code,
        "summary": the_case.summary,
        "lead_officer": "",
        "opened_on": the_case.opened_on.isoformat(),
    }
    data.update(values)
    return data


def edit_url(the_case: Case) -> str:
    return reverse("cases:edit", kwargs={"case": the_case.uuid})


def test_raising_the_code_on_the_edit_page_lists_the_conflicting_shares_first(
    green_world: dict[str, Any], investigator: Any
) -> None:
    the_case = green_world["case"]
    response = client_for(investigator).post(
        edit_url(the_case), edit_data(the_case, handling_code=Code.AMBER, title="New title")
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert "Policía Nacional Civil" in content
    assert "Guatemala" in content
    assert 'name="conflicting_shares" value="revoke"' in content
    assert 'name="conflicting_shares" value="keep"' in content
    the_case.refresh_from_db()
    assert the_case.handling_code == Code.GREEN
    assert the_case.title != "New title"


@pytest.mark.parametrize("decision", ["keep", "revoke"])
def test_the_owner_s_decision_on_the_edit_page_is_carried_out(
    decision: str, green_world: dict[str, Any], investigator: Any
) -> None:
    the_case = green_world["case"]
    response = client_for(investigator).post(
        edit_url(the_case),
        edit_data(
            the_case, handling_code=Code.AMBER, title="New title", conflicting_shares=decision
        ),
    )
    assert response.status_code == 302
    the_case.refresh_from_db()
    assert the_case.handling_code == Code.AMBER
    assert the_case.title == "New title"
    abroad = green_world["abroad"]
    abroad.refresh_from_db()
    assert (abroad.ended_at is None) is (decision == "keep")


def test_raising_the_code_without_conflicts_saves_at_once(
    case: Case, investigator: Any, supervisor: Any, cr_police: Agency
) -> None:
    share(supervisor, case, cr_police, Level.MANAGE)
    response = client_for(investigator).post(edit_url(case), edit_data(case, handling_code="red"))
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.handling_code == Code.RED


def test_a_recipient_cannot_change_the_handling_code_from_the_edit_page(
    green_world: dict[str, Any], cr_investigator: Any
) -> None:
    the_case = green_world["case"]
    client = client_for(cr_investigator)
    assert "disabled" in str(client.get(edit_url(the_case)).context["form"]["handling_code"])
    response = client.post(
        edit_url(the_case), edit_data(the_case, handling_code=Code.CLEAR, title="Renamed")
    )
    assert response.status_code == 302
    the_case.refresh_from_db()
    assert the_case.handling_code == Code.GREEN
    assert the_case.title == "Renamed"
