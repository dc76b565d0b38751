"""Re-shares end with the share they came from: revoked, replaced below the manage level,
shortened or expired, down the chain, and the agencies that lose access are told why."""

import datetime
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from casebook.models import Agency, Country, Notification
from cases import selectors, services
from cases.models import Case, CaseGroupObjectPermission, CaseShare
from cases.selectors import case_access
from tests.cases.sharing_helpers import (
    NOTIFICATIONS,
    NOW,
    Code,
    Level,
    actions,
    new_agency,
    reloaded,
    share,
    stored,
    visible_ids,
)
from tests.conftest import client_for
from tests.factories import make_case, make_member

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
    services.share_revoke(access=case_access(supervisor, chain["first"].case), share=chain["first"])
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
    services.share_revoke(access=case_access(supervisor, chain["first"].case), share=chain["first"])
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
    services.share_revoke(access=case_access(supervisor, chain["first"].case), share=chain["first"])
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
    services.share_revoke(access=case_access(supervisor, chain["first"].case), share=chain["first"])
    assert reloaded(chain["beside"]).ended_at is None
    assert the_case.pk in visible_ids(gt_supervisor)
    assert owner_grants == set(
        CaseGroupObjectPermission.objects.filter(share=None).values_list("pk", flat=True)
    )
    assert actions(investigator, the_case) == {"view", "contribute", "change", "view_protected"}


def test_a_recipient_revoking_its_reshare_ends_only_what_came_from_that_reshare(
    chain: dict[str, Any], cr_supervisor: Any
) -> None:
    services.share_revoke(
        access=case_access(cr_supervisor, chain["second"].case), share=chain["second"]
    )
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
    assert services.shares_expire() == 2
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
    assert services.shares_expire() == 2
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
    assert services.shares_expire() == 2
    assert reloaded(chain["second"]).end_reason == CaseShare.EndReason.PARENT_ENDED
    assert reloaded(chain["third"]).end_reason == CaseShare.EndReason.PARENT_ENDED
    assert reloaded(chain["beside"]).ended_at is None
    assert chain["case"].pk not in visible_ids(crp_supervisor)
    assert set(notices_since(last)) == {
        (chain["second"].agency_id, Notification.Kind.SHARE_SOURCE_ENDED),
        (chain["third"].agency_id, Notification.Kind.SHARE_SOURCE_ENDED),
    }
    assert services.shares_expire() == 0


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
    assert set(selectors.code_change_conflicts(the_case, Code.AMBER)) == {abroad, below}
    services.case_set_handling_code(
        access=case_access(investigator, the_case), code=Code.AMBER, revoke_conflicting=True
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
