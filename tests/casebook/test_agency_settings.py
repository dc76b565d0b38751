"""Supervisors set their own agency's contact point and its policy on matches of protected
identities; every change is logged under their name and told to the other supervisors."""

from typing import Any

from django.urls import reverse

from casebook.models import AccessLog, Agency, Notification
from tests.conftest import client_for
from tests.factories import make_member

SETTINGS = reverse("agency_settings")


def test_a_supervisor_lets_the_agency_be_told_of_matches_on_its_protected_identities(
    supervisor: Any, pa_police: Agency
) -> None:
    assert pa_police.protected_match_policy == Agency.ProtectedMatchPolicy.NONE
    response = client_for(supervisor).post(
        SETTINGS,
        {"contact_point": "Trata desk, +507 511-0000", "protected_match_policy": "owner_decides"},
    )
    assert response.status_code == 302
    pa_police.refresh_from_db()
    assert pa_police.protected_match_policy == Agency.ProtectedMatchPolicy.OWNER_DECIDES
    assert pa_police.contact_point == "Trata desk, +507 511-0000"
    entry = AccessLog.objects.get(action=AccessLog.Action.AGENCY)
    assert (entry.user_id, entry.agency_id) == (supervisor.pk, pa_police.pk)
    assert "protected_match_policy" in entry.detail
    notice = Notification.objects.get(kind=Notification.Kind.AGENCY_CHANGED)
    assert (notice.agency_id, notice.supervisors_only) == (pa_police.pk, True)
    assert supervisor.get_username() in notice.message


def test_an_unknown_policy_is_refused_next_to_the_field_and_nothing_changes(
    supervisor: Any, pa_police: Agency
) -> None:
    response = client_for(supervisor).post(
        SETTINGS, {"contact_point": "desk", "protected_match_policy": "everyone"}
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    pa_police.refresh_from_db()
    assert pa_police.protected_match_policy == Agency.ProtectedMatchPolicy.NONE
    assert not AccessLog.objects.filter(action=AccessLog.Action.AGENCY).exists()


def test_only_supervisors_reach_the_agency_settings(
    investigator: Any, analyst: Any, pa_police: Agency
) -> None:
    for user in (investigator, analyst):
        assert client_for(user).get(SETTINGS).status_code == 403
        response = client_for(user).post(
            SETTINGS, {"contact_point": "x", "protected_match_policy": "owner_decides"}
        )
        assert response.status_code == 403
    pa_police.refresh_from_db()
    assert pa_police.protected_match_policy == Agency.ProtectedMatchPolicy.NONE


def test_a_supervisor_changes_only_their_own_agency(
    supervisor: Any, pa_police: Agency, cr_police: Agency
) -> None:
    cr_supervisor = make_member(cr_police, "supervisor")
    client_for(cr_supervisor).post(
        SETTINGS, {"contact_point": "OIJ desk", "protected_match_policy": "owner_decides"}
    )
    pa_police.refresh_from_db()
    cr_police.refresh_from_db()
    assert pa_police.protected_match_policy == Agency.ProtectedMatchPolicy.NONE
    assert cr_police.protected_match_policy == Agency.ProtectedMatchPolicy.OWNER_DECIDES
