"""Shares that expire: the selectors stop them at once, the clean-up (and its beat task)
closes them and tells both agencies."""

import datetime
from typing import Any

import time_machine

from casebook.models import Agency, Notification
from cases import services, tasks
from cases.models import Case, CaseGroupObjectPermission, CaseShare
from tests.cases.sharing_helpers import NOW, Level, actions, share, visible_ids
from tests.factories import make_case

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
        assert services.shares_expire() == 0
        traveller.shift(datetime.timedelta(hours=2))
        assert services.shares_expire() == 1
        assert services.shares_expire() == 0
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
