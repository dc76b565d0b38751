"""Sharing a case through the service: granting, refusals (a clear error, nothing stored) and
revoking; and what a partner agency (``shared_case``) may do with a case shared for view."""

import datetime
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.utils import timezone

from casebook.models import Agency, Notification
from cases import rules, selectors, services
from cases.models import Case, CaseGroupObjectPermission, CaseShare
from cases.selectors import case_access
from tests.cases.sharing_helpers import (
    NOW,
    PURPOSE,
    Code,
    Level,
    actions,
    new_agency,
    share,
    stored,
    visible_ids,
)
from tests.factories import make_case

# --- granting ------------------------------------------------------------------------------


def test_owner_supervisor_shares_a_case_and_the_recipient_sees_it(
    case: Case, supervisor: Any, cr_police: Agency, outsider: Any, cr_analyst: Any
) -> None:
    assert case.pk not in visible_ids(outsider)
    the_share = share(supervisor, case, cr_police, Level.CONTRIBUTE)
    assert the_share.granted_by == supervisor
    assert the_share.granted_by_agency == case.owner_agency
    assert not the_share.is_reshare
    grants = CaseGroupObjectPermission.objects.filter(share=the_share)
    assert {grant.permission.codename for grant in grants} == {"view_case", "contribute_case"}
    assert {grant.group_id for grant in grants} == {cr_police.group_id}
    assert case.pk in visible_ids(outsider)
    assert actions(outsider, case) == {"view", "contribute"}
    # Roles still apply: an analyst of the recipient agency only reads.
    assert actions(cr_analyst, case) == {"view"}
    assert the_share.history.first().history_user == supervisor


def test_a_share_notifies_the_recipient_agency_without_case_content(
    investigator: Any, supervisor: Any, cr_police: Agency
) -> None:
    the_case = make_case(investigator, title="Red de trata MARKER-TITLE")
    share(supervisor, the_case, cr_police, Level.VIEW)
    notification = Notification.objects.get(agency=cr_police)
    assert notification.kind == Notification.Kind.SHARE_GRANTED
    assert notification.case == the_case
    assert notification.message == (
        f"Servicio Nacional de Fronteras shared case {the_case.reference} with you (View)."
    )
    assert "MARKER-TITLE" not in notification.message


def test_an_expiring_share_gives_its_grants_the_same_expiry(
    case: Case, supervisor: Any, cr_police: Agency
) -> None:
    expires = timezone.now() + datetime.timedelta(days=30)
    the_share = share(supervisor, case, cr_police, Level.MANAGE, expires_at=expires)
    grants = CaseGroupObjectPermission.objects.filter(share=the_share)
    assert grants.count() == 4
    assert {grant.expires_at for grant in grants} == {expires}


def test_protected_identities_are_shared_only_when_asked(
    case: Case, supervisor: Any, cr_police: Agency, outsider: Any, cr_analyst: Any
) -> None:
    share(supervisor, case, cr_police, Level.VIEW)
    assert "view_protected" not in actions(outsider, case)
    share(supervisor, case, cr_police, Level.VIEW, include_protected=True)
    assert "view_protected" in actions(outsider, case)
    assert selectors.can_see_protected(outsider, case)
    # An analyst's role does not include protected identities, whatever the share says.
    assert not selectors.can_see_protected(cr_analyst, case)


def test_sharing_again_with_an_agency_replaces_its_share_and_keeps_both_in_history(
    case: Case, supervisor: Any, cr_police: Agency, outsider: Any
) -> None:
    first = share(supervisor, case, cr_police, Level.MANAGE)
    second = share(supervisor, case, cr_police, Level.VIEW)
    first.refresh_from_db()
    assert first.ended_at is not None
    assert first.end_reason == CaseShare.EndReason.REPLACED
    assert first.ended_by == supervisor
    assert second.ended_at is None
    assert not CaseGroupObjectPermission.objects.filter(share=first).exists()
    assert actions(outsider, case) == {"view"}
    assert list(CaseShare.objects.filter(case=case).order_by("pk")) == [first, second]


def test_a_manage_recipient_may_reshare_within_its_country_under_amber(
    investigator: Any,
    supervisor: Any,
    cr_police: Agency,
    cr_supervisor: Any,
    cr_prosecution: Agency,
) -> None:
    the_case = make_case(investigator, handling_code=Code.AMBER)
    share(supervisor, the_case, cr_police, Level.MANAGE)
    reshare = share(cr_supervisor, the_case, cr_prosecution, Level.CONTRIBUTE)
    assert reshare.granted_by_agency == cr_police
    notification = Notification.objects.get(agency=cr_prosecution)
    assert notification.message.startswith("Organismo de Investigación Judicial shared case")


# --- refusals: a clear error, nothing stored ------------------------------------------------


def refused(field: str, *, actor: User, case: Case, **kwargs: Any) -> ValidationError:
    """Share ``case`` as ``actor`` with ``kwargs``: refused on ``field``, nothing stored."""
    before = stored()
    values = {"level": Level.VIEW, "purpose": PURPOSE, **kwargs}
    with pytest.raises(ValidationError) as caught:
        services.case_share(access=case_access(actor, case), **values)
    assert field in caught.value.message_dict, caught.value.message_dict
    assert stored() == before
    return caught.value


def test_sharing_with_your_own_agency_is_refused(
    case: Case, supervisor: Any, pa_police: Agency
) -> None:
    error = refused("agency", actor=supervisor, case=case, agency=pa_police)
    assert error.message_dict["agency"] == ["You cannot share a case with your own agency."]


def test_a_recipient_sharing_back_with_the_owner_is_refused(
    investigator: Any, supervisor: Any, cr_police: Agency, cr_supervisor: Any, pa_police: Agency
) -> None:
    the_case = make_case(investigator, handling_code=Code.GREEN)
    share(supervisor, the_case, cr_police, Level.MANAGE)
    refused("agency", actor=cr_supervisor, case=the_case, agency=pa_police)


def test_sharing_with_an_agency_that_does_not_exist_is_refused(case: Case, supervisor: Any) -> None:
    ghost = Agency(name="Ghost", country_id="PA", kind=Agency.Kind.POLICE)
    refused(NON_FIELD_ERRORS, actor=supervisor, case=case, agency=ghost)
    refused(NON_FIELD_ERRORS, actor=supervisor, case=case, agency=None)


@pytest.mark.parametrize("delta", [datetime.timedelta(0), datetime.timedelta(seconds=-1)])
def test_an_expiry_now_or_in_the_past_is_refused(
    delta: datetime.timedelta, case: Case, supervisor: Any, cr_police: Agency
) -> None:
    with time_machine.travel(NOW, tick=False):
        error = refused(
            "expires_at", actor=supervisor, case=case, agency=cr_police, expires_at=NOW + delta
        )
    assert error.message_dict["expires_at"] == ["The expiry must be in the future."]


@pytest.mark.parametrize("purpose", ["", "   \n "])
def test_a_blank_purpose_is_refused(
    purpose: str, case: Case, supervisor: Any, cr_police: Agency
) -> None:
    refused("purpose", actor=supervisor, case=case, agency=cr_police, purpose=purpose)


def test_an_unknown_level_is_refused(case: Case, supervisor: Any, cr_police: Agency) -> None:
    refused("level", actor=supervisor, case=case, agency=cr_police, level="owner")


def test_a_recipient_cannot_grant_a_level_above_its_own(
    investigator: Any, supervisor: Any, cr_police: Agency, cr_supervisor: Any
) -> None:
    """A contribute-level recipient has no manage action, so it may not share at all; the
    level check itself is the policy's: nothing above the recipient's own level."""
    the_case = make_case(investigator, handling_code=Code.GREEN)
    share(supervisor, the_case, cr_police, Level.CONTRIBUTE)
    before = stored()
    with pytest.raises(PermissionDenied):
        share(cr_supervisor, the_case, new_agency(), Level.MANAGE)
    assert stored() == before
    assert rules.level_rank(Level.VIEW) < rules.level_rank(Level.CONTRIBUTE)
    assert rules.level_rank(Level.CONTRIBUTE) < rules.level_rank(Level.MANAGE)


def test_a_recipient_cannot_share_protected_identities(
    investigator: Any, supervisor: Any, cr_police: Agency, cr_supervisor: Any, gt_police: Agency
) -> None:
    the_case = make_case(investigator, handling_code=Code.GREEN)
    share(supervisor, the_case, cr_police, Level.MANAGE, include_protected=True)
    error = refused(
        "include_protected",
        actor=cr_supervisor,
        case=the_case,
        agency=gt_police,
        include_protected=True,
    )
    assert "Only the owner agency" in error.message_dict["include_protected"][0]


@pytest.mark.parametrize("code", [Code.RED, Code.AMBER_STRICT])
def test_a_reshare_of_a_red_or_amber_strict_case_is_refused(
    code: str,
    investigator: Any,
    supervisor: Any,
    cr_police: Agency,
    cr_supervisor: Any,
    cr_prosecution: Agency,
) -> None:
    the_case = make_case(investigator, handling_code=code)
    share(supervisor, the_case, cr_police, Level.MANAGE)
    error = refused(NON_FIELD_ERRORS, actor=cr_supervisor, case=the_case, agency=cr_prosecution)
    assert "only the owner agency may share" in error.messages[0]


def test_an_amber_reshare_to_another_country_is_refused(
    investigator: Any, supervisor: Any, cr_police: Agency, cr_supervisor: Any, gt_police: Agency
) -> None:
    the_case = make_case(investigator, handling_code=Code.AMBER)
    share(supervisor, the_case, cr_police, Level.MANAGE)
    error = refused("agency", actor=cr_supervisor, case=the_case, agency=gt_police)
    assert "its own country" in error.message_dict["agency"][0]


def test_a_recipient_cannot_replace_a_share_the_owner_granted(
    investigator: Any,
    supervisor: Any,
    cr_police: Agency,
    cr_supervisor: Any,
    cr_prosecution: Agency,
) -> None:
    the_case = make_case(investigator, handling_code=Code.GREEN)
    share(supervisor, the_case, cr_police, Level.MANAGE)
    share(supervisor, the_case, cr_prosecution, Level.MANAGE)
    refused("agency", actor=cr_supervisor, case=the_case, agency=cr_prosecution)


def test_members_without_the_manage_action_cannot_share(
    case: Case, investigator: Any, analyst: Any, outsider: Any, cr_police: Agency
) -> None:
    before = stored()
    for user in (investigator, analyst, outsider):
        with pytest.raises(PermissionDenied):
            share(user, case, cr_police)
    assert stored() == before


# --- revoking ------------------------------------------------------------------------------


def test_revoking_a_share_ends_it_and_removes_access_at_once(
    case: Case, supervisor: Any, cr_police: Agency, outsider: Any
) -> None:
    the_share = share(supervisor, case, cr_police, Level.MANAGE)
    assert case.pk in visible_ids(outsider)
    services.share_revoke(access=case_access(supervisor, the_share.case), share=the_share)
    the_share.refresh_from_db()
    assert the_share.end_reason == CaseShare.EndReason.REVOKED
    assert the_share.ended_by == supervisor
    assert the_share.ended_at is not None
    assert not CaseGroupObjectPermission.objects.filter(share=the_share).exists()
    assert case.pk not in visible_ids(outsider)
    assert actions(outsider, case) == set()
    notification = Notification.objects.filter(agency=cr_police).first()
    assert notification is not None
    assert notification.kind == Notification.Kind.SHARE_REVOKED
    assert notification.case is None
    assert case.reference in notification.message


def test_revoking_an_ended_share_is_refused(case: Case, supervisor: Any, cr_police: Agency) -> None:
    the_share = share(supervisor, case, cr_police)
    services.share_revoke(access=case_access(supervisor, the_share.case), share=the_share)
    with pytest.raises(ValidationError):
        services.share_revoke(access=case_access(supervisor, the_share.case), share=the_share)


def test_the_granting_recipient_and_the_owner_may_revoke_a_reshare_but_no_one_else(
    investigator: Any,
    supervisor: Any,
    cr_police: Agency,
    cr_supervisor: Any,
    gt_police: Agency,
    gt_supervisor: Any,
    cr_prosecution: Agency,
) -> None:
    the_case = make_case(investigator, handling_code=Code.GREEN)
    share(supervisor, the_case, cr_police, Level.MANAGE)
    share(supervisor, the_case, gt_police, Level.MANAGE)
    reshare = share(cr_supervisor, the_case, cr_prosecution)
    owner_share = CaseShare.objects.get(agency=gt_police, ended_at__isnull=True)
    # Another manage-level recipient may not revoke what it did not grant.
    with pytest.raises(PermissionDenied):
        services.share_revoke(access=case_access(gt_supervisor, reshare.case), share=reshare)
    with pytest.raises(PermissionDenied):
        services.share_revoke(
            access=case_access(cr_supervisor, owner_share.case), share=owner_share
        )
    services.share_revoke(access=case_access(cr_supervisor, reshare.case), share=reshare)
    reshare = share(cr_supervisor, the_case, cr_prosecution)
    services.share_revoke(access=case_access(supervisor, reshare.case), share=reshare)
    assert not CaseShare.objects.filter(agency=cr_prosecution, ended_at__isnull=True).exists()


# --- a partner agency the case is shared with ------------------------------------------------


def test_a_view_partner_sees_the_case_and_may_only_read_it(
    shared_case: Case, partner: User
) -> None:
    assert shared_case.pk in visible_ids(partner)
    assert actions(partner, shared_case) == {"view"}
    assert not selectors.can_see_protected(partner, shared_case)
    # Without the manage action it may not pass the case on.
    before = stored()
    with pytest.raises(PermissionDenied):
        share(partner, shared_case, new_agency())
    assert stored() == before


def test_a_partner_loses_the_case_as_soon_as_its_share_is_revoked(
    shared_case: Case, partner: User, partner_agency: Agency, supervisor: User
) -> None:
    the_share = CaseShare.objects.get(case=shared_case, agency=partner_agency)
    services.share_revoke(access=case_access(supervisor, the_share.case), share=the_share)
    assert shared_case.pk not in visible_ids(partner)
    assert actions(partner, shared_case) == set()
    notification = Notification.objects.filter(agency=partner_agency).first()
    assert notification is not None
    assert notification.kind == Notification.Kind.SHARE_REVOKED
