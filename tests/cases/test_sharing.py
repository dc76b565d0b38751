"""Sharing a case with other agencies: the TLP 2.0 policy, the services, the pages, expiry,
revoking, raising a case's handling code, and the notifications that go with them."""

import datetime
from collections.abc import Iterator
from typing import Any, cast

import pytest
import time_machine
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from casebook.models import AccessLog, Agency, Country, Notification
from cases import selectors, services, sharing, tasks
from cases.forms.sharing import end_of_day_utc
from cases.models import Case, CaseGroupObjectPermission, CaseShare
from tests.conftest import client_for
from tests.factories import AgencyFactory, make_case, make_member

Code = Case.HandlingCode
Level = CaseShare.Level
NOW = datetime.datetime(2026, 5, 4, 12, 0, tzinfo=datetime.UTC)
PURPOSE = "Joint investigation of the Darién smuggling route"


# --- the world ------------------------------------------------------------------------------


def new_agency(**values: Any) -> Agency:
    return cast(Agency, AgencyFactory(**values))


@pytest.fixture
def cr_supervisor(cr_police: Agency) -> Any:
    return make_member(cr_police, "supervisor", username="sup.cr")


@pytest.fixture
def cr_investigator(cr_police: Agency) -> Any:
    return make_member(cr_police, "investigator", username="inv.cr2")


@pytest.fixture
def cr_analyst(cr_police: Agency) -> Any:
    return make_member(cr_police, "analyst", username="ana.cr")


@pytest.fixture
def cr_prosecution(db: Any) -> Agency:
    """A second agency in Costa Rica (same country as ``cr_police``)."""
    return new_agency(country=Country.objects.get(code="CR"), name="Fiscalía CR")


@pytest.fixture
def gt_police(db: Any) -> Agency:
    return new_agency(country=Country.objects.get(code="GT"), name="Policía Nacional Civil")


@pytest.fixture
def gt_supervisor(gt_police: Agency) -> Any:
    return make_member(gt_police, "supervisor", username="sup.gt")


def share(
    actor: Any, case: Case, agency: Agency, level: str = Level.VIEW, **values: Any
) -> CaseShare:
    values.setdefault("purpose", PURPOSE)
    return sharing.case_share(actor=actor, case=case, agency=agency, level=level, **values)


def stored() -> tuple[int, int, int]:
    """What a refused share must not change: shares, grants and notifications."""
    return (
        CaseShare.objects.count(),
        CaseGroupObjectPermission.objects.count(),
        Notification.objects.count(),
    )


def visible_ids(user: Any) -> set[int]:
    return set(selectors.case_list(user).values_list("pk", flat=True))


def actions(user: Any, case: Case) -> set[str]:
    return selectors.case_permissions(user, [case])[case.pk]


def shares_url(case: Case) -> str:
    return reverse("cases:shares", kwargs={"case": case.uuid})


NOTIFICATIONS = reverse("notifications")


def revoke_url(the_share: CaseShare) -> str:
    return reverse(
        "cases:share_revoke", kwargs={"case": the_share.case.uuid, "share": the_share.uuid}
    )


# --- the policy table, one row or column at a time ---------------------------------------------

GRANT: dict[str, tuple[bool, bool]] = {
    # code: (owner may grant, a manage-level recipient may grant)
    Code.RED: (True, False),
    Code.AMBER_STRICT: (True, False),
    Code.AMBER: (True, True),
    Code.GREEN: (True, True),
    Code.CLEAR: (True, True),
}
RESHARE: dict[str, tuple[bool, bool]] = {
    # code: (to the recipient's own country, to another country)
    Code.RED: (False, False),
    Code.AMBER_STRICT: (False, False),
    Code.AMBER: (True, False),
    Code.GREEN: (True, True),
    Code.CLEAR: (True, True),
}
EXPORT: dict[str, bool] = {
    Code.RED: False,
    Code.AMBER_STRICT: True,  # the export must stay within the recipient's agency
    Code.AMBER: True,
    Code.GREEN: True,
    Code.CLEAR: True,
}


@pytest.mark.parametrize("code", list(GRANT))
def test_who_may_grant_a_share_follows_the_table(code: str) -> None:
    owner, recipient = GRANT[code]
    assert sharing.may_grant(code, is_owner=True, actor_level=None) is owner
    assert sharing.may_grant(code, is_owner=False, actor_level=Level.MANAGE) is recipient
    # Recipients below the manage level never grant.
    assert sharing.may_grant(code, is_owner=False, actor_level=Level.CONTRIBUTE) is False
    assert sharing.may_grant(code, is_owner=False, actor_level=Level.VIEW) is False


@pytest.mark.parametrize("code", list(RESHARE))
def test_where_recipients_may_reshare_follows_the_table(
    code: str, cr_police: Agency, cr_prosecution: Agency, gt_police: Agency
) -> None:
    same_country, other_country = RESHARE[code]
    assert (
        sharing.may_reshare_to(code, actor_agency=cr_police, target_agency=cr_prosecution)
        is same_country
    )
    assert (
        sharing.may_reshare_to(code, actor_agency=cr_police, target_agency=gt_police)
        is other_country
    )


@pytest.mark.parametrize("code", list(EXPORT))
def test_who_may_export_follows_the_table(
    code: str, investigator: Any, outsider: Any, supervisor: Any
) -> None:
    the_case = make_case(investigator, handling_code=code)
    assert sharing.may_export(investigator, the_case) is True
    share(supervisor, the_case, outsider.member.agency)
    assert sharing.may_export(outsider, the_case) is EXPORT[code]


def test_the_rules_table_covers_every_handling_code() -> None:
    assert set(sharing.HANDLING_RULES) == set(Code.values)


@pytest.mark.parametrize("code", list(GRANT))
def test_a_manage_recipient_reshares_exactly_as_the_code_allows(
    code: str,
    investigator: Any,
    supervisor: Any,
    cr_police: Agency,
    cr_supervisor: Any,
    cr_prosecution: Agency,
    gt_police: Agency,
) -> None:
    the_case = make_case(investigator, handling_code=code)
    share(supervisor, the_case, cr_police, Level.MANAGE)
    same_country, other_country = RESHARE[code]
    for target, allowed in ((cr_prosecution, same_country), (gt_police, other_country)):
        before = stored()
        if allowed:
            reshare = share(cr_supervisor, the_case, target)
            assert reshare.is_reshare
            assert reshare.granted_by_agency == cr_police
        else:
            with pytest.raises(ValidationError):
                share(cr_supervisor, the_case, target)
            assert stored() == before


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


def refused(field: str, **kwargs: Any) -> ValidationError:
    before = stored()
    with pytest.raises(ValidationError) as caught:
        sharing.case_share(**{"level": Level.VIEW, "purpose": PURPOSE, **kwargs})
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
    assert sharing.level_rank(Level.VIEW) < sharing.level_rank(Level.CONTRIBUTE)
    assert sharing.level_rank(Level.CONTRIBUTE) < sharing.level_rank(Level.MANAGE)


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
    sharing.share_revoke(actor=supervisor, share=the_share)
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
    sharing.share_revoke(actor=supervisor, share=the_share)
    with pytest.raises(ValidationError):
        sharing.share_revoke(actor=supervisor, share=the_share)


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
        sharing.share_revoke(actor=gt_supervisor, share=reshare)
    with pytest.raises(PermissionDenied):
        sharing.share_revoke(actor=cr_supervisor, share=owner_share)
    sharing.share_revoke(actor=cr_supervisor, share=reshare)
    reshare = share(cr_supervisor, the_case, cr_prosecution)
    sharing.share_revoke(actor=supervisor, share=reshare)
    assert not CaseShare.objects.filter(agency=cr_prosecution, ended_at__isnull=True).exists()


# --- expiry --------------------------------------------------------------------------------


def test_an_expired_share_stops_working_before_the_clean_up_runs(
    case: Case, supervisor: Any, cr_police: Agency, outsider: Any
) -> None:
    with time_machine.travel(NOW, tick=False) as traveller:
        the_share = share(
            supervisor, case, cr_police, Level.MANAGE, expires_at=NOW + datetime.timedelta(hours=1)
        )
        traveller.shift(datetime.timedelta(minutes=59))
        assert case.pk in visible_ids(outsider)
        traveller.shift(datetime.timedelta(minutes=1))
        assert case.pk not in visible_ids(outsider)
        assert actions(outsider, case) == set()
        # Not cleaned up yet: the selector alone stopped it.
        the_share.refresh_from_db()
        assert the_share.ended_at is None
        assert not the_share.is_active()


def test_the_clean_up_closes_expired_shares_notifies_both_agencies_and_is_idempotent(
    case: Case, investigator: Any, supervisor: Any, pa_police: Agency, cr_police: Agency
) -> None:
    with time_machine.travel(NOW, tick=False) as traveller:
        expiring = share(supervisor, case, cr_police, expires_at=NOW + datetime.timedelta(hours=1))
        lasting = share(supervisor, make_case(investigator), cr_police, expires_at=None)
        assert sharing.shares_expire() == 0
        traveller.shift(datetime.timedelta(hours=2))
        assert sharing.shares_expire() == 1
        assert sharing.shares_expire() == 0
    expiring.refresh_from_db()
    lasting.refresh_from_db()
    assert expiring.end_reason == CaseShare.EndReason.EXPIRED
    assert expiring.ended_at == NOW + datetime.timedelta(hours=1)
    assert lasting.ended_at is None
    assert not CaseGroupObjectPermission.objects.filter(share=expiring).exists()
    expired = Notification.objects.filter(kind=Notification.Kind.SHARE_EXPIRED)
    assert {n.agency for n in expired} == {pa_police, cr_police}
    assert expired.get(agency=pa_police).case == case
    assert expired.get(agency=cr_police).case is None


def test_the_beat_task_runs_the_clean_up(
    case: Case, supervisor: Any, cr_police: Agency, settings: Any
) -> None:
    with time_machine.travel(NOW, tick=False) as traveller:
        share(supervisor, case, cr_police, expires_at=NOW + datetime.timedelta(minutes=5))
        traveller.shift(datetime.timedelta(minutes=6))
        assert tasks.shares_expire_task.delay().get() == 1
    schedule = settings.CELERY_BEAT_SCHEDULE["shares-expire"]
    assert schedule["task"] == "cases.tasks.shares_expire_task"


def test_resharing_to_an_agency_whose_share_expired_closes_the_old_one_as_expired(
    case: Case, supervisor: Any, cr_police: Agency, outsider: Any
) -> None:
    with time_machine.travel(NOW, tick=False) as traveller:
        old = share(supervisor, case, cr_police, expires_at=NOW + datetime.timedelta(hours=1))
        traveller.shift(datetime.timedelta(hours=2))
        share(supervisor, case, cr_police, Level.CONTRIBUTE)
        assert actions(outsider, case) == {"view", "contribute"}
    old.refresh_from_db()
    assert old.end_reason == CaseShare.EndReason.EXPIRED


# --- re-shares end with the share they came from ---------------------------------------------


@pytest.fixture
def crp_supervisor(cr_prosecution: Agency) -> Any:
    return make_member(cr_prosecution, "supervisor", username="sup.crp")


@pytest.fixture
def chain(
    investigator: Any,
    supervisor: Any,
    cr_police: Agency,
    cr_supervisor: Any,
    cr_prosecution: Agency,
    crp_supervisor: Any,
    gt_police: Agency,
) -> dict[str, Any]:
    """A GREEN case its owner shared with CR police (manage) and GT police (view); CR police
    re-shared it to CR prosecution (manage), which re-shared it to CR labour (view)."""
    the_case = make_case(investigator, handling_code=Code.GREEN)
    cr_labour = new_agency(country=Country.objects.get(code="CR"), name="Inspección CR")
    first = share(supervisor, the_case, cr_police, Level.MANAGE)
    beside = share(supervisor, the_case, gt_police)
    second = share(cr_supervisor, the_case, cr_prosecution, Level.MANAGE)
    third = share(crp_supervisor, the_case, cr_labour)
    return {
        "case": the_case,
        "first": first,
        "beside": beside,
        "second": second,
        "third": third,
        "labour_inspector": make_member(cr_labour, "investigator", username="inv.crl"),
    }


def reloaded(the_share: CaseShare) -> CaseShare:
    the_share.refresh_from_db()
    return the_share


def last_notice() -> int:
    """The id of the newest notification, to tell the ones an action sends from the others."""
    newest = Notification.objects.order_by("-pk").first()
    return newest.pk if newest is not None else 0


def notices_since(last: int) -> dict[tuple[int, str], Notification]:
    """The notifications sent after ``last``, by (agency id, kind); one each at most."""
    sent = list(Notification.objects.filter(pk__gt=last).order_by("pk"))
    notices = {(notice.agency_id, notice.kind): notice for notice in sent}
    assert len(notices) == len(sent), "an agency was told the same thing twice"
    return notices


def test_revoking_a_share_ends_the_reshares_that_came_from_it_down_the_chain(
    chain: dict[str, Any], supervisor: Any, cr_supervisor: Any, crp_supervisor: Any
) -> None:
    the_case = chain["case"]
    assert the_case.pk in visible_ids(chain["labour_inspector"])
    sharing.share_revoke(actor=supervisor, share=chain["first"])
    first = reloaded(chain["first"])
    for name in ("second", "third"):
        ended = reloaded(chain[name])
        assert ended.end_reason == CaseShare.EndReason.PARENT_ENDED
        assert ended.ended_at == first.ended_at
        assert ended.ended_by == supervisor
        assert ended.history.first().history_user == supervisor
        assert not CaseGroupObjectPermission.objects.filter(share=ended).exists()
    for user in (cr_supervisor, crp_supervisor, chain["labour_inspector"]):
        assert the_case.pk not in visible_ids(user)
        assert actions(user, the_case) == set()


def test_agencies_that_lose_access_with_the_share_it_came_from_are_told_why(
    chain: dict[str, Any], supervisor: Any, cr_police: Agency, cr_prosecution: Agency
) -> None:
    last = last_notice()
    sharing.share_revoke(actor=supervisor, share=chain["first"])
    reference = chain["case"].reference
    labour = chain["third"].agency
    notices = notices_since(last)
    # The owner and Guatemala (shared by the owner) keep their access and are told nothing.
    assert set(notices) == {
        (cr_police.pk, Notification.Kind.SHARE_REVOKED),
        (cr_prosecution.pk, Notification.Kind.SHARE_SOURCE_ENDED),
        (labour.pk, Notification.Kind.SHARE_SOURCE_ENDED),
    }
    assert all(notice.case is None for notice in notices.values())
    assert notices[labour.pk, Notification.Kind.SHARE_SOURCE_ENDED].message == (
        f"Your agency's access to case {reference} ended because Fiscalía CR, which shared it "
        "with you, no longer has the access it shared."
    )
    assert notices[cr_prosecution.pk, Notification.Kind.SHARE_SOURCE_ENDED].message == (
        f"Your agency's access to case {reference} ended because Organismo de Investigación "
        "Judicial, which shared it with you, no longer has the access it shared."
    )


def test_an_agency_whose_source_ended_reads_why_without_a_link_to_the_case(
    chain: dict[str, Any], supervisor: Any
) -> None:
    sharing.share_revoke(actor=supervisor, share=chain["first"])
    content = client_for(chain["labour_inspector"]).get(NOTIFICATIONS).content.decode()
    assert "Share ended with its source" in content
    assert f"access to case {chain['case'].reference} ended because Fiscalía CR" in content
    assert chain["case"].get_absolute_url() not in content


def test_shares_the_owner_granted_stay_when_a_recipient_s_share_ends(
    chain: dict[str, Any], supervisor: Any, investigator: Any, gt_supervisor: Any
) -> None:
    the_case = chain["case"]
    owner_grants = set(
        CaseGroupObjectPermission.objects.filter(share=None).values_list("pk", flat=True)
    )
    sharing.share_revoke(actor=supervisor, share=chain["first"])
    assert reloaded(chain["beside"]).ended_at is None
    assert the_case.pk in visible_ids(gt_supervisor)
    assert owner_grants == set(
        CaseGroupObjectPermission.objects.filter(share=None).values_list("pk", flat=True)
    )
    assert actions(investigator, the_case) == {"view", "contribute", "change", "view_protected"}


def test_a_recipient_revoking_its_reshare_ends_only_what_came_from_that_reshare(
    chain: dict[str, Any], cr_supervisor: Any
) -> None:
    sharing.share_revoke(actor=cr_supervisor, share=chain["second"])
    assert reloaded(chain["first"]).ended_at is None
    assert reloaded(chain["beside"]).ended_at is None
    assert reloaded(chain["second"]).end_reason == CaseShare.EndReason.REVOKED
    assert reloaded(chain["third"]).end_reason == CaseShare.EndReason.PARENT_ENDED
    assert chain["case"].pk in visible_ids(cr_supervisor)


def test_replacing_a_share_below_the_manage_level_ends_the_reshares_it_granted(
    chain: dict[str, Any], supervisor: Any, cr_police: Agency, cr_supervisor: Any
) -> None:
    last = last_notice()
    # With an earlier expiry as well: the re-shares end, they are not shortened.
    soon = timezone.now() + datetime.timedelta(hours=1)
    share(supervisor, chain["case"], cr_police, Level.CONTRIBUTE, expires_at=soon)
    assert reloaded(chain["second"]).end_reason == CaseShare.EndReason.PARENT_ENDED
    assert reloaded(chain["third"]).end_reason == CaseShare.EndReason.PARENT_ENDED
    assert reloaded(chain["beside"]).ended_at is None
    assert actions(cr_supervisor, chain["case"]) == {"view"}
    assert set(notices_since(last)) == {
        (cr_police.pk, Notification.Kind.SHARE_GRANTED),
        (chain["second"].agency_id, Notification.Kind.SHARE_SOURCE_ENDED),
        (chain["third"].agency_id, Notification.Kind.SHARE_SOURCE_ENDED),
    }


def test_replacing_a_share_with_an_earlier_expiry_shortens_its_reshares_but_never_lengthens(
    chain: dict[str, Any], supervisor: Any, cr_police: Agency
) -> None:
    soon = timezone.now() + datetime.timedelta(hours=1)
    share(supervisor, chain["case"], cr_police, Level.MANAGE, expires_at=soon)
    for name in ("second", "third"):
        shortened = reloaded(chain[name])
        assert shortened.ended_at is None
        assert shortened.expires_at == soon
        assert {grant.expires_at for grant in shortened.grants.all()} == {soon}
        assert shortened.history.first().history_user == supervisor
    assert reloaded(chain["beside"]).expires_at is None
    # Giving CR police more time again does not give the re-shares more time.
    share(supervisor, chain["case"], cr_police, Level.MANAGE)
    assert reloaded(chain["second"]).expires_at == soon
    assert reloaded(chain["second"]).ended_at is None


SOURCE_END = NOW + datetime.timedelta(hours=1)


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def expiring_source(
    clock: time_machine.Traveller, investigator: Any, supervisor: Any, cr_police: Agency
) -> Case:
    """A GREEN case its owner shared with CR police at the manage level until SOURCE_END."""
    the_case = make_case(investigator, handling_code=Code.GREEN)
    share(supervisor, the_case, cr_police, Level.MANAGE, expires_at=SOURCE_END)
    return the_case


def test_a_reshare_without_an_expiry_stops_when_the_share_it_came_from_expires(
    expiring_source: Case,
    clock: time_machine.Traveller,
    cr_supervisor: Any,
    cr_prosecution: Agency,
    crp_supervisor: Any,
) -> None:
    reshare = share(cr_supervisor, expiring_source, cr_prosecution)
    assert reshare.expires_at == SOURCE_END
    assert {grant.expires_at for grant in reshare.grants.all()} == {SOURCE_END}
    clock.shift(datetime.timedelta(minutes=59))
    assert expiring_source.pk in visible_ids(crp_supervisor)
    clock.shift(datetime.timedelta(minutes=1))
    # Stopped by the selector alone, before the clean-up runs.
    assert expiring_source.pk not in visible_ids(crp_supervisor)
    assert reloaded(reshare).ended_at is None
    assert sharing.shares_expire() == 2
    assert reloaded(reshare).end_reason == CaseShare.EndReason.EXPIRED
    assert reshare.ended_at == SOURCE_END


@pytest.mark.parametrize(
    "later", [datetime.timedelta(seconds=1), datetime.timedelta(days=3)], ids=["1s", "3d"]
)
def test_a_reshare_may_not_outlast_the_share_it_came_from(
    later: datetime.timedelta,
    expiring_source: Case,
    cr_supervisor: Any,
    cr_prosecution: Agency,
) -> None:
    before = stored()
    with pytest.raises(ValidationError) as caught:
        share(cr_supervisor, expiring_source, cr_prosecution, expires_at=SOURCE_END + later)
    assert stored() == before
    assert list(caught.value.message_dict) == ["expires_at"]
    assert "a re-share cannot outlast it" in caught.value.message_dict["expires_at"][0]
    reshare = share(cr_supervisor, expiring_source, cr_prosecution, expires_at=SOURCE_END)
    assert reshare.expires_at == SOURCE_END


def test_the_clean_up_ends_an_uncapped_reshare_with_the_expired_share_it_came_from(
    expiring_source: Case,
    clock: time_machine.Traveller,
    cr_supervisor: Any,
    cr_prosecution: Agency,
) -> None:
    reshare = share(cr_supervisor, expiring_source, cr_prosecution)
    # As a re-share granted before re-shares were capped: no expiry of its own.
    CaseShare.objects.filter(pk=reshare.pk).update(expires_at=None)
    CaseGroupObjectPermission.objects.filter(share=reshare).update(expires_at=None)
    clock.shift(datetime.timedelta(hours=2))
    assert sharing.shares_expire() == 2
    assert reloaded(reshare).end_reason == CaseShare.EndReason.PARENT_ENDED
    assert reshare.ended_at == SOURCE_END
    assert not CaseGroupObjectPermission.objects.filter(share=reshare).exists()
    told = Notification.objects.get(agency=cr_prosecution, case=None)
    assert told.kind == Notification.Kind.SHARE_SOURCE_ENDED


def test_the_clean_up_ends_reshares_left_without_a_share_to_come_from(
    chain: dict[str, Any], crp_supervisor: Any
) -> None:
    # As a revoke from before re-shares ended with their source: CR police's share alone.
    first = chain["first"]
    CaseGroupObjectPermission.objects.filter(share=first).delete()
    CaseShare.objects.filter(pk=first.pk).update(
        ended_at=timezone.now(), end_reason=CaseShare.EndReason.REVOKED
    )
    assert chain["case"].pk in visible_ids(crp_supervisor)
    last = last_notice()
    assert sharing.shares_expire() == 2
    assert reloaded(chain["second"]).end_reason == CaseShare.EndReason.PARENT_ENDED
    assert reloaded(chain["third"]).end_reason == CaseShare.EndReason.PARENT_ENDED
    assert reloaded(chain["beside"]).ended_at is None
    assert chain["case"].pk not in visible_ids(crp_supervisor)
    assert set(notices_since(last)) == {
        (chain["second"].agency_id, Notification.Kind.SHARE_SOURCE_ENDED),
        (chain["third"].agency_id, Notification.Kind.SHARE_SOURCE_ENDED),
    }
    assert sharing.shares_expire() == 0


@pytest.fixture
def clocked_chain(clock: time_machine.Traveller, chain: dict[str, Any]) -> dict[str, Any]:
    """``chain``, built at NOW with the clock stopped there."""
    return chain


def test_the_agencies_of_shortened_reshares_are_told_their_new_end_and_no_one_else(
    clocked_chain: dict[str, Any], supervisor: Any, cr_police: Agency, cr_prosecution: Agency
) -> None:
    chain = clocked_chain
    reference = chain["case"].reference
    labour = chain["third"].agency
    last = last_notice()
    share(supervisor, chain["case"], cr_police, Level.MANAGE, expires_at=SOURCE_END)
    notices = notices_since(last)
    # Not the owner (it made the change, and its sharing page shows it), nor Guatemala.
    assert set(notices) == {
        (cr_police.pk, Notification.Kind.SHARE_GRANTED),
        (cr_prosecution.pk, Notification.Kind.SHARE_SHORTENED),
        (labour.pk, Notification.Kind.SHARE_SHORTENED),
    }
    assert notices[cr_prosecution.pk, Notification.Kind.SHARE_SHORTENED].message == (
        f"Your agency's access to case {reference} now ends earlier, at 05/04/2026 1 p.m. UTC, "
        "because the access of Organismo de Investigación Judicial, which shared it with you, "
        "was shortened."
    )
    assert notices[labour.pk, Notification.Kind.SHARE_SHORTENED].message == (
        f"Your agency's access to case {reference} now ends earlier, at 05/04/2026 1 p.m. UTC, "
        "because the access of Fiscalía CR, which shared it with you, was shortened."
    )
    # They still see the case, until then.
    assert notices[labour.pk, Notification.Kind.SHARE_SHORTENED].case == chain["case"]


def test_a_reshare_that_already_ends_earlier_is_not_shortened_and_its_agency_not_told(
    clocked_chain: dict[str, Any], supervisor: Any, cr_police: Agency, crp_supervisor: Any
) -> None:
    chain = clocked_chain
    labour = chain["third"].agency
    share(crp_supervisor, chain["case"], labour, expires_at=SOURCE_END)
    last = last_notice()
    share(supervisor, chain["case"], cr_police, Level.MANAGE, expires_at=SOURCE_END)
    assert set(notices_since(last)) == {
        (cr_police.pk, Notification.Kind.SHARE_GRANTED),
        (chain["second"].agency_id, Notification.Kind.SHARE_SHORTENED),
    }
    # More time for CR police again shortens nothing and tells no re-share anything.
    last = last_notice()
    share(supervisor, chain["case"], cr_police, Level.MANAGE)
    assert set(notices_since(last)) == {(cr_police.pk, Notification.Kind.SHARE_GRANTED)}


def test_the_shortened_notice_links_to_the_case_only_while_the_agency_may_see_it(
    clocked_chain: dict[str, Any],
    clock: time_machine.Traveller,
    supervisor: Any,
    cr_police: Agency,
) -> None:
    chain = clocked_chain
    share(supervisor, chain["case"], cr_police, Level.MANAGE, expires_at=SOURCE_END)
    client = client_for(chain["labour_inspector"])
    content = client.get(NOTIFICATIONS).content.decode()
    assert "Share shortened" in content
    assert "now ends earlier, at 05/04/2026 1 p.m. UTC" in content
    assert chain["case"].get_absolute_url() in content
    clock.shift(datetime.timedelta(hours=1))
    # An hour later the idle session has ended: the member signs in again.
    content = client_for(chain["labour_inspector"]).get(NOTIFICATIONS).content.decode()
    assert "now ends earlier" in content
    assert chain["case"].get_absolute_url() not in content


def test_revoking_after_raising_the_code_ends_the_reshares_that_came_from_the_revoked(
    investigator: Any,
    supervisor: Any,
    cr_police: Agency,
    cr_supervisor: Any,
    cr_prosecution: Agency,
    gt_police: Agency,
    gt_supervisor: Any,
) -> None:
    the_case = make_case(investigator, handling_code=Code.GREEN)
    share(supervisor, the_case, cr_police, Level.MANAGE)
    in_country = share(cr_supervisor, the_case, cr_prosecution)
    abroad = share(cr_supervisor, the_case, gt_police, Level.MANAGE)
    gt_other = new_agency(country=Country.objects.get(code="GT"), name="Ministerio Público GT")
    # AMBER allows this one on its own (same country as its granter), not its source.
    below = share(gt_supervisor, the_case, gt_other)
    assert set(sharing.code_change_conflicts(the_case, Code.AMBER)) == {abroad, below}
    sharing.case_set_handling_code(
        actor=investigator, case=the_case, code=Code.AMBER, revoke_conflicting=True
    )
    assert reloaded(abroad).end_reason == CaseShare.EndReason.REVOKED
    assert reloaded(below).end_reason == CaseShare.EndReason.PARENT_ENDED
    assert reloaded(in_country).ended_at is None
    assert Notification.objects.filter(
        agency=gt_other, kind=Notification.Kind.SHARE_SOURCE_ENDED, case=None
    ).exists()
    assert Notification.objects.filter(
        agency=gt_police, kind=Notification.Kind.SHARE_REVOKED, case=None
    ).exists()


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
    conflicts = sharing.code_change_conflicts(green_world["case"], Code.AMBER)
    assert conflicts == [green_world["abroad"]]


@pytest.mark.parametrize("code", [Code.AMBER_STRICT, Code.RED])
def test_raising_to_amber_strict_or_red_conflicts_with_every_reshare(
    code: str, green_world: dict[str, Any]
) -> None:
    conflicts = sharing.code_change_conflicts(green_world["case"], code)
    assert set(conflicts) == {green_world["in_country"], green_world["abroad"]}


@pytest.mark.parametrize("code", [Code.GREEN, Code.CLEAR])
def test_lowering_or_keeping_the_code_conflicts_with_nothing(
    code: str, green_world: dict[str, Any]
) -> None:
    assert sharing.code_change_conflicts(green_world["case"], code) == []


def test_raising_the_code_without_a_decision_is_refused_and_changes_nothing(
    green_world: dict[str, Any], investigator: Any
) -> None:
    the_case = green_world["case"]
    before = stored()
    with pytest.raises(ValidationError) as caught:
        sharing.case_set_handling_code(actor=investigator, case=the_case, code=Code.RED)
    assert "conflicting_shares" in caught.value.message_dict
    assert stored() == before
    the_case.refresh_from_db()
    assert the_case.handling_code == Code.GREEN


def test_raising_the_code_and_revoking_ends_the_conflicting_shares(
    green_world: dict[str, Any], investigator: Any, gt_police: Agency
) -> None:
    the_case = green_world["case"]
    revoked = sharing.case_set_handling_code(
        actor=investigator, case=the_case, code=Code.AMBER, revoke_conflicting=True
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
    sharing.case_set_handling_code(
        actor=investigator, case=the_case, code=Code.RED, revoke_conflicting=False
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
        sharing.case_set_handling_code(actor=cr_investigator, case=the_case, code=Code.CLEAR)
    assert "handling_code" in caught.value.message_dict


def test_case_update_refuses_the_handling_code_so_the_share_decision_cannot_be_bypassed(
    green_world: dict[str, Any], investigator: Any
) -> None:
    the_case = green_world["case"]
    versions = the_case.history.count()
    with pytest.raises(TypeError):
        services.case_update(actor=investigator, case=the_case, handling_code=Code.RED)
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
        sharing.case_update_with_code(
            actor=investigator, case=the_case, handling_code=Code.RED, title="Renamed"
        )
    assert "conflicting_shares" in caught.value.message_dict
    the_case.refresh_from_db()
    assert (the_case.handling_code, the_case.title) == (Code.GREEN, title)
    assert stored() == before


# --- the sharing page ----------------------------------------------------------------------


def share_form(agency: Agency, **values: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"agency": str(agency.uuid), "level": Level.VIEW, "purpose": PURPOSE}
    data.update(values)
    return data


def test_owner_supervisor_sees_the_sharing_page_with_the_rules_of_the_case_code(
    case: Case, supervisor: Any, cr_police: Agency, gt_police: Agency, pa_police: Agency
) -> None:
    share(supervisor, case, cr_police, Level.CONTRIBUTE)
    response = client_for(supervisor).get(shares_url(case))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Organismo de Investigación Judicial" in content
    assert "Contribute" in content
    assert PURPOSE in content
    assert "Only to agencies of the recipient&#x27;s own country" in content
    assert "This case is TLP:AMBER: its row is highlighted." in content
    # The agency select is grouped by country and leaves out the owner agency.
    assert '<optgroup label="Guatemala">' in content
    assert f'value="{gt_police.uuid}"' in content
    assert f'value="{pa_police.uuid}"' not in content
    assert 'name="include_protected"' in content
    assert revoke_url(CaseShare.objects.get()) in content


def test_the_case_page_links_to_sharing_for_those_who_may_manage_it_only(
    case: Case, supervisor: Any, investigator: Any
) -> None:
    assert shares_url(case) in client_for(supervisor).get(case.get_absolute_url()).content.decode()
    page = client_for(investigator).get(case.get_absolute_url()).content.decode()
    assert shares_url(case) not in page


@pytest.mark.parametrize("who", ["investigator", "analyst"])
def test_members_who_may_not_manage_the_case_get_403_on_the_sharing_page(
    who: str, case: Case, request: Any
) -> None:
    user = request.getfixturevalue(who)
    assert client_for(user).get(shares_url(case)).status_code == 403
    response = client_for(user).post(shares_url(case), share_form(new_agency()))
    assert response.status_code == 403
    assert not CaseShare.objects.exists()


def test_outsider_gets_404_on_the_sharing_page(case: Case, outsider: Any) -> None:
    assert client_for(outsider).get(shares_url(case)).status_code == 404
    response = client_for(outsider).post(shares_url(case), share_form(new_agency()))
    assert response.status_code == 404
    assert not CaseShare.objects.exists()


def test_view_level_recipients_get_403_and_manage_level_recipients_see_the_page(
    case: Case, supervisor: Any, cr_police: Agency, cr_supervisor: Any, outsider: Any
) -> None:
    share(supervisor, case, cr_police, Level.VIEW)
    assert client_for(cr_supervisor).get(shares_url(case)).status_code == 403
    share(supervisor, case, cr_police, Level.MANAGE)
    response = client_for(cr_supervisor).get(shares_url(case))
    assert response.status_code == 200
    # Only the owner agency may share protected identities: recipients are not offered it.
    assert 'name="include_protected"' not in response.content.decode()
    # The owner's share of CR police may not be revoked by CR police.
    assert revoke_url(CaseShare.objects.get(ended_at=None)) not in response.content.decode()


def test_posting_the_share_form_shares_and_logs_it(
    case: Case, supervisor: Any, cr_police: Agency, outsider: Any
) -> None:
    expires_on = (timezone.now() + datetime.timedelta(days=10)).date()
    response = client_for(supervisor).post(
        shares_url(case),
        share_form(cr_police, level=Level.MANAGE, expires_on=expires_on.isoformat()),
    )
    assert response.status_code == 302
    assert response["Location"] == shares_url(case)
    the_share = CaseShare.objects.get()
    assert the_share.level == Level.MANAGE
    # The expiry date means the end of that day, UTC.
    assert the_share.expires_at == datetime.datetime.combine(
        expires_on + datetime.timedelta(days=1), datetime.time(), datetime.UTC
    )
    assert AccessLog.objects.filter(
        action=AccessLog.Action.SHARE, case=case, object_uuid=the_share.uuid
    ).exists()
    assert client_for(outsider).get(case.get_absolute_url()).status_code == 200


def refused_post(user: Any, case: Case, data: dict[str, Any]) -> Any:
    before = stored()
    response = client_for(user).post(shares_url(case), data)
    assert response.status_code == 200
    assert stored() == before
    assert AccessLog.objects.filter(
        action=AccessLog.Action.REFUSED, case=case, attempted="share"
    ).exists()
    return response.context["form"]


def test_posting_a_share_with_your_own_agency_shows_the_error_next_to_the_agency(
    case: Case, supervisor: Any, pa_police: Agency
) -> None:
    form = refused_post(supervisor, case, share_form(pa_police))
    assert form.errors["agency"] == ["You cannot share a case with your own agency."]


def test_posting_an_agency_that_does_not_exist_is_refused(case: Case, supervisor: Any) -> None:
    form = refused_post(supervisor, case, share_form(AgencyFactory.build(), level=Level.VIEW))
    assert form.errors["agency"] == ["There is no such agency."]
    form = refused_post(supervisor, case, {"agency": "not-a-uuid", "purpose": PURPOSE})
    assert "agency" in form.errors


def test_posting_an_expiry_in_the_past_shows_the_error_next_to_the_expiry(
    case: Case, supervisor: Any, cr_police: Agency
) -> None:
    yesterday = timezone.now().date() - datetime.timedelta(days=1)
    form = refused_post(supervisor, case, share_form(cr_police, expires_on=yesterday.isoformat()))
    assert form.errors["expires_on"] == ["The expiry must be in the future."]


def test_posting_without_a_purpose_says_why_one_is_needed(
    case: Case, supervisor: Any, cr_police: Agency
) -> None:
    form = refused_post(supervisor, case, share_form(cr_police, purpose=""))
    assert form.errors["purpose"] == ["Say why you share this case; the purpose is recorded."]


def test_posting_a_reshare_the_code_forbids_is_refused_with_the_code_named(
    investigator: Any, supervisor: Any, cr_police: Agency, cr_supervisor: Any, gt_police: Agency
) -> None:
    the_case = make_case(investigator, handling_code=Code.AMBER)
    share(supervisor, the_case, cr_police, Level.MANAGE)
    form = refused_post(cr_supervisor, the_case, share_form(gt_police))
    assert "Under TLP:AMBER a recipient may re-share only" in form.errors["agency"][0]


def test_a_recipient_of_a_red_case_is_told_it_may_not_share(
    investigator: Any, supervisor: Any, cr_police: Agency, cr_supervisor: Any
) -> None:
    the_case = make_case(investigator, handling_code=Code.RED)
    share(supervisor, the_case, cr_police, Level.MANAGE)
    response = client_for(cr_supervisor).get(shares_url(the_case))
    content = response.content.decode()
    assert "Under TLP:RED only the owner agency may share this case." in content
    assert 'name="purpose"' not in content


def test_sharing_page_query_count_does_not_grow_with_the_shares(
    investigator: Any, supervisor: Any
) -> None:
    def count(shares: int) -> int:
        the_case = make_case(investigator)
        for _n in range(shares):
            target = new_agency(country=Country.objects.get(code="CR"))
            sharing.share_revoke(actor=supervisor, share=share(supervisor, the_case, target))
            share(supervisor, the_case, target, Level.CONTRIBUTE)
        client = client_for(supervisor)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(shares_url(the_case)).status_code == 200
        return len(queries)

    assert count(1) == count(15)


def test_a_recipient_s_share_form_says_when_its_own_access_ends(
    investigator: Any, supervisor: Any, cr_police: Agency, cr_supervisor: Any
) -> None:
    the_case = make_case(investigator, handling_code=Code.GREEN)
    last_day = timezone.now().date() + datetime.timedelta(days=10)
    share(supervisor, the_case, cr_police, Level.MANAGE, expires_at=end_of_day_utc(last_day))
    response = client_for(cr_supervisor).get(shares_url(the_case))
    field = response.context["form"].fields["expires_on"]
    assert field.widget.attrs["max"] == last_day.isoformat()
    assert "Your agency&#x27;s own access ends at" in response.content.decode()


def test_a_recipient_may_reshare_until_its_own_last_day_and_no_later(
    investigator: Any,
    supervisor: Any,
    cr_police: Agency,
    cr_supervisor: Any,
    cr_prosecution: Agency,
) -> None:
    the_case = make_case(investigator, handling_code=Code.GREEN)
    # Shared by the service, so its end is not at midnight: the form's last day ends with it.
    own_end = timezone.now() + datetime.timedelta(days=2)
    share(supervisor, the_case, cr_police, Level.MANAGE, expires_at=own_end)
    last_day = own_end.date()
    form = refused_post(
        cr_supervisor,
        the_case,
        share_form(cr_prosecution, expires_on=(last_day + datetime.timedelta(days=1)).isoformat()),
    )
    assert "a re-share cannot outlast it" in form.errors["expires_on"][0]
    response = client_for(cr_supervisor).post(
        shares_url(the_case), share_form(cr_prosecution, expires_on=last_day.isoformat())
    )
    assert response.status_code == 302
    assert CaseShare.objects.get(agency=cr_prosecution).expires_at == own_end


# --- revoking from the page ------------------------------------------------------------------


def test_revoke_asks_for_confirmation_then_takes_effect_on_the_next_request(
    case: Case, supervisor: Any, cr_police: Agency, outsider: Any
) -> None:
    the_share = share(supervisor, case, cr_police, Level.VIEW)
    recipient = client_for(outsider)
    assert recipient.get(case.get_absolute_url()).status_code == 200
    client = client_for(supervisor)
    confirmation = client.get(revoke_url(the_share))
    assert confirmation.status_code == 200
    assert "Revoke the share of" in confirmation.content.decode()
    response = client.post(revoke_url(the_share))
    assert response.status_code == 302
    assert response["Location"] == shares_url(case)
    assert recipient.get(case.get_absolute_url()).status_code == 404
    assert recipient.get(reverse("cases:list")).context["page"].object_list == []
    assert AccessLog.objects.filter(action=AccessLog.Action.REVOKE, case=case).exists()


def test_revoking_an_ended_share_again_says_so_and_logs_the_refusal(
    case: Case, supervisor: Any, cr_police: Agency
) -> None:
    the_share = share(supervisor, case, cr_police)
    client = client_for(supervisor)
    client.post(revoke_url(the_share))
    response = client.post(revoke_url(the_share), follow=True)
    assert "This share has already ended." in response.content.decode()
    assert AccessLog.objects.filter(
        action=AccessLog.Action.REFUSED, case=case, attempted="revoke"
    ).exists()


def test_a_recipient_may_not_revoke_the_owner_s_share(
    investigator: Any, supervisor: Any, cr_police: Agency, cr_supervisor: Any, gt_police: Agency
) -> None:
    the_case = make_case(investigator, handling_code=Code.GREEN)
    share(supervisor, the_case, cr_police, Level.MANAGE)
    gt_share = share(supervisor, the_case, gt_police)
    assert client_for(cr_supervisor).post(revoke_url(gt_share)).status_code == 403
    gt_share.refresh_from_db()
    assert gt_share.ended_at is None


def test_revoke_of_a_share_of_another_case_is_a_404(
    investigator: Any, supervisor: Any, cr_police: Agency
) -> None:
    first, second = make_case(investigator), make_case(investigator)
    the_share = share(supervisor, first, cr_police)
    url = reverse("cases:share_revoke", kwargs={"case": second.uuid, "share": the_share.uuid})
    assert client_for(supervisor).post(url).status_code == 404
    the_share.refresh_from_db()
    assert the_share.ended_at is None


def test_outsider_gets_404_on_revoke(case: Case, supervisor: Any, outsider: Any) -> None:
    the_share = share(supervisor, case, new_agency())
    assert client_for(outsider).get(revoke_url(the_share)).status_code == 404
    assert client_for(outsider).post(revoke_url(the_share)).status_code == 404


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


# --- notifications -------------------------------------------------------------------------


def test_the_recipient_agency_reads_its_share_notification_with_a_link_to_the_case(
    case: Case, supervisor: Any, cr_police: Agency, outsider: Any, investigator: Any
) -> None:
    share(supervisor, case, cr_police)
    content = client_for(outsider).get(NOTIFICATIONS).content.decode()
    assert f"shared case {case.reference} with you" in content
    assert case.get_absolute_url() in content
    # Notifications belong to the agency they were sent to.
    assert "shared case" not in client_for(investigator).get(NOTIFICATIONS).content.decode()


def test_after_a_revoke_the_old_notification_no_longer_links_to_the_case(
    case: Case, supervisor: Any, cr_police: Agency, outsider: Any
) -> None:
    the_share = share(supervisor, case, cr_police)
    sharing.share_revoke(actor=supervisor, share=the_share)
    content = client_for(outsider).get(NOTIFICATIONS).content.decode()
    assert "ended your agency&#x27;s access" in content
    assert case.get_absolute_url() not in content


def test_protected_only_notifications_reach_only_members_who_may_see_protected_identities(
    case: Case, supervisor: Any, cr_police: Agency, outsider: Any, cr_analyst: Any
) -> None:
    Notification.objects.create(
        agency=cr_police,
        kind=Notification.Kind.HIT,
        case=case,
        message="PROTECTED-MARKER",
        protected_only=True,
    )
    share(supervisor, case, cr_police)
    assert "PROTECTED-MARKER" not in client_for(outsider).get(NOTIFICATIONS).content.decode()
    share(supervisor, case, cr_police, include_protected=True)
    assert "PROTECTED-MARKER" in client_for(outsider).get(NOTIFICATIONS).content.decode()
    assert "PROTECTED-MARKER" not in client_for(cr_analyst).get(NOTIFICATIONS).content.decode()


def test_the_navigation_bar_counts_unread_notifications_until_they_are_read(
    case: Case, supervisor: Any, cr_police: Agency, outsider: Any, cr_analyst: Any
) -> None:
    share(supervisor, case, cr_police)
    share(supervisor, make_case(case.created_by), cr_police)
    client = client_for(outsider)
    assert client.get(reverse("dashboard")).context["unread_notifications"]() == 2
    first = Notification.objects.filter(agency=cr_police).first()
    assert first is not None
    response = client.post(NOTIFICATIONS, {"notification": str(first.uuid)})
    assert response.status_code == 302
    assert client.get(reverse("dashboard")).context["unread_notifications"]() == 1
    client.post(NOTIFICATIONS)
    page = client.get(NOTIFICATIONS)
    assert page.context["unread_notifications"]() == 0
    assert "unread" not in page.content.decode().split("<main", 1)[1]
    # Read by one member, still unread for another.
    assert client_for(cr_analyst).get(NOTIFICATIONS).context["unread_notifications"]() == 2


def test_marking_a_notification_of_another_agency_changes_nothing(
    case: Case, supervisor: Any, cr_police: Agency, investigator: Any
) -> None:
    share(supervisor, case, cr_police)
    theirs = Notification.objects.get(agency=cr_police)
    client_for(investigator).post(NOTIFICATIONS, {"notification": str(theirs.uuid)})
    client_for(investigator).post(NOTIFICATIONS, {"notification": "not-a-uuid"})
    assert not theirs.read_by.exists()


def test_users_without_an_agency_have_no_notifications(db: Any, django_user_model: Any) -> None:
    admin = django_user_model.objects.create_superuser("root", "root@example.org", "pw")
    client = client_for(admin)
    response = client.get(NOTIFICATIONS)
    assert response.status_code == 200
    assert list(response.context["page"].object_list) == []
    assert client.post(NOTIFICATIONS).status_code == 302


def test_notifications_page_query_count_does_not_grow_with_the_notifications(
    case: Case, outsider: Any, cr_police: Agency, django_assert_max_num_queries: Any
) -> None:
    def count() -> int:
        client = client_for(outsider)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(NOTIFICATIONS).status_code == 200
        return len(queries)

    Notification.objects.create(agency=cr_police, kind="hit", message="one", case=case)
    one = count()
    for n in range(20):
        Notification.objects.create(agency=cr_police, kind="hit", message=f"m{n}", case=case)
    assert count() == one
    client = client_for(outsider)
    # 8 + the page's own entry in the access log (reading the notifications is a read).
    with django_assert_max_num_queries(9):
        client.get(NOTIFICATIONS)
