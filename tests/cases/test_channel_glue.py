"""One place for channel glue: what a page does besides calling a service is done by the
service (or the one helper it calls), so that a new channel (an API, a Celery task on a
user's behalf) gets it by calling the service.

- Shares, revokes and exports write their access-log rows, and their refusals', from
  ``services.case_share``, ``services.share_revoke`` and ``export.case_export``: called here
  directly inside a request (``AccessLogMiddleware`` around a bare function, no view of
  ours), they write the rows the pages write.
- ``casebook.notifications`` is the one way to notify: ``notify`` (with ``once_within``) and
  ``notify_new`` do not write a notice twice.
"""

import datetime
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from casebook import access, notifications
from casebook.models import AccessLog, Agency, Notification
from casebook.notifications import MESSAGE_LENGTH, Notice
from cases import export, services
from cases.models import Case, CaseShare
from cases.selectors import case_access
from tests.conftest import client_for
from tests.factories import make_case

ADDRESS = "203.0.113.9"
CHANNEL = "/api/v1/cases/"  # a path no view of ours answers: the service alone logs
PURPOSE = "Joint investigation with Guatemala's public prosecutor"
PURPOSE_MISSING = "purpose: Say why you share this case; the purpose is recorded."
LEVEL_UNKNOWN = "level: Choose view, contribute or manage."
SHARE_ENDED = "This share has already ended."


def in_request(user: User, work: Callable[[], object]) -> None:
    """Run ``work`` as a new channel would: inside a request made known to the access log
    by its middleware, with no view of ours. A refusal is answered with a 400, as a channel
    answers it; the refusal's log row is the service's to write."""

    def channel(request: HttpRequest) -> HttpResponse:
        try:
            work()
        except (ValidationError, export.ExportRefused):
            return HttpResponse(status=400)
        return HttpResponse(status=200)

    request = RequestFactory().post(CHANNEL, REMOTE_ADDR=ADDRESS)
    request.user = user
    access.AccessLogMiddleware(channel)(request)


def logged(*actions: str) -> list[dict[str, Any]]:
    """The access-log rows of ``actions``, oldest first, as the fields a reader sees."""
    return [
        dict(entry)
        for entry in AccessLog.objects.filter(action__in=actions)
        .order_by("pk")
        .values(
            "action",
            "attempted",
            "object_type",
            "object_uuid",
            "case_id",
            "case_reference",
            "user_id",
            "agency_id",
            "path",
            "remote_addr",
            "detail",
        )
    ]


def row(user: User, case: Case, **values: Any) -> dict[str, Any]:
    expected: dict[str, Any] = {
        "attempted": "",
        "object_type": "case",
        "object_uuid": case.uuid,
        "case_id": case.pk,
        "case_reference": case.reference,
        "user_id": user.pk,
        "agency_id": user.member.agency_id,
        "path": CHANNEL,
        "remote_addr": ADDRESS,
        "detail": "",
    }
    expected.update(values)
    return expected


def share(supervisor: User, case: Case, agency: Agency, **values: Any) -> CaseShare:
    values.setdefault("level", CaseShare.Level.VIEW)
    values.setdefault("purpose", PURPOSE)
    return services.case_share(access=case_access(supervisor, case), agency=agency, **values)


# --- sharing ---------------------------------------------------------------------------------


def test_a_share_made_through_any_channel_is_logged_with_the_agency_and_level(
    supervisor: User, case: Case, partner_agency: Agency
) -> None:
    in_request(supervisor, lambda: share(supervisor, case, partner_agency))

    made = CaseShare.objects.get()
    assert logged(AccessLog.Action.SHARE) == [
        row(
            supervisor,
            case,
            action="share",
            object_type="share",
            object_uuid=made.uuid,
            detail="MP view",
        )  # fmt: skip
    ]


def test_the_share_page_writes_the_row_a_direct_call_writes(
    supervisor: User, investigator: User, partner_agency: Agency
) -> None:
    by_page, by_call = make_case(investigator), make_case(investigator, title="Second")
    data = {"agency": str(partner_agency.uuid), "level": CaseShare.Level.CONTRIBUTE}
    client_for(supervisor).post(
        reverse("cases:shares", kwargs={"case": by_page.uuid}), {**data, "purpose": PURPOSE}
    )
    in_request(
        supervisor,
        lambda: share(supervisor, by_call, partner_agency, level=CaseShare.Level.CONTRIBUTE),
    )

    page_row, call_row = logged(AccessLog.Action.SHARE)
    assert page_row["detail"] == "cases:shares MP contribute"
    assert call_row["detail"] == "MP contribute"
    different = {"object_uuid", "case_id", "case_reference", "path", "remote_addr", "detail"}
    assert {k: v for k, v in page_row.items() if k not in different} == {
        k: v for k, v in call_row.items() if k not in different
    }


def test_a_refused_share_is_logged_with_what_was_refused_by_field(
    supervisor: User, case: Case, partner_agency: Agency
) -> None:
    in_request(supervisor, lambda: share(supervisor, case, partner_agency, purpose="  "))
    in_request(
        supervisor,
        lambda: share(supervisor, case, partner_agency, level="everything", purpose=""),
    )

    assert not CaseShare.objects.exists()
    assert logged(AccessLog.Action.SHARE) == []
    assert logged(AccessLog.Action.REFUSED) == [
        row(supervisor, case, action="refused", attempted="share", detail=PURPOSE_MISSING),
        row(
            supervisor,
            case,
            action="refused",
            attempted="share",
            detail=f"{LEVEL_UNKNOWN}; {PURPOSE_MISSING}",
        ),  # fmt: skip
    ]


def test_a_refused_share_is_logged_outside_a_request_too(
    supervisor: User, case: Case, partner_agency: Agency
) -> None:
    # A Celery task or a management command acting for a member: no path, no address.
    with pytest.raises(ValidationError):
        share(supervisor, case, partner_agency, purpose="")

    assert logged(AccessLog.Action.REFUSED) == [
        row(
            supervisor,
            case,
            action="refused",
            attempted="share",
            detail=PURPOSE_MISSING,
            path="",
            remote_addr=None,
        )  # fmt: skip
    ]


def test_a_revoke_through_any_channel_is_logged(
    supervisor: User, case: Case, partner_agency: Agency
) -> None:
    made = share(supervisor, case, partner_agency)

    in_request(
        supervisor,
        lambda: services.share_revoke(access=case_access(supervisor, case), share=made),
    )

    assert logged(AccessLog.Action.REVOKE) == [
        row(supervisor, case, action="revoke", object_type="share", object_uuid=made.uuid)
    ]


def test_a_refused_revoke_is_logged_and_the_first_revoke_stands(
    supervisor: User, case: Case, partner_agency: Agency
) -> None:
    made = share(supervisor, case, partner_agency)

    def revoke() -> None:
        services.share_revoke(access=case_access(supervisor, case), share=made)

    in_request(supervisor, revoke)
    in_request(supervisor, revoke)

    assert [entry["action"] for entry in logged(AccessLog.Action.REVOKE)] == ["revoke"]
    assert logged(AccessLog.Action.REFUSED) == [
        row(supervisor, case, action="refused", attempted="revoke", detail=SHARE_ENDED)
    ]


# --- export ------------------------------------------------------------------------------------


def test_an_export_through_any_channel_is_logged(investigator: User, case: Case) -> None:
    in_request(
        investigator,
        lambda: export.case_export(case_access(investigator, case), at=timezone.now()),
    )

    assert logged(AccessLog.Action.EXPORT, AccessLog.Action.REFUSED) == [
        row(investigator, case, action="export")
    ]


def test_the_export_page_writes_the_row_a_direct_call_writes(
    investigator: User, case: Case
) -> None:
    client_for(investigator).get(reverse("cases:export", kwargs={"case": case.uuid}))
    in_request(
        investigator,
        lambda: export.case_export(case_access(investigator, case), at=timezone.now()),
    )

    page_row, call_row = logged(AccessLog.Action.EXPORT)
    assert page_row["detail"] == "cases:export"
    different = {"path", "remote_addr", "detail"}
    assert {k: v for k, v in page_row.items() if k not in different} == {
        k: v for k, v in call_row.items() if k not in different
    }


def test_a_refused_export_is_logged_with_the_reason(
    investigator: User, supervisor: User, partner: User, partner_agency: Agency
) -> None:
    red = make_case(investigator, handling_code=Case.HandlingCode.RED)
    share(supervisor, red, partner_agency)

    in_request(partner, lambda: export.case_export(case_access(partner, red), at=timezone.now()))

    assert logged(AccessLog.Action.EXPORT) == []
    assert logged(AccessLog.Action.REFUSED) == [
        row(
            partner,
            red,
            action="refused",
            attempted="export",
            detail=export.refusal_message(red),
        )  # fmt: skip
    ]


# --- notifications -----------------------------------------------------------------------------

MOMENT = datetime.datetime(2026, 6, 1, 12, 0, tzinfo=datetime.UTC)


def notified(agency: Agency) -> list[tuple[str, int | None, str, bool]]:
    return list(
        Notification.objects.filter(agency=agency)
        .order_by("pk")
        .values_list("kind", "case_id", "message", "protected_only")
    )


def tell(
    agency: Agency, message: str = "Volume of new keys over the hourly budget", **values: Any
) -> Notification | None:
    values.setdefault("kind", Notification.Kind.HIT_VOLUME)
    return notifications.notify(agency_id=agency.pk, message=message, **values)


def test_notify_writes_a_notice_every_time_without_once_within(pa_police: Agency) -> None:
    assert tell(pa_police) is not None
    assert tell(pa_police) is not None

    assert len(notified(pa_police)) == 2


def test_notify_once_within_skips_the_same_notice_within_the_window(pa_police: Agency) -> None:
    hour = datetime.timedelta(hours=1)
    with time_machine.travel(MOMENT, tick=False):
        first = tell(pa_police, once_within=hour)
    with time_machine.travel(MOMENT + datetime.timedelta(minutes=59), tick=False):
        again = tell(pa_police, once_within=hour)
        other_message = tell(pa_police, "Another agency's budget", once_within=hour)
        other_kind = tell(pa_police, kind=Notification.Kind.HIT, once_within=hour)
    with time_machine.travel(MOMENT + datetime.timedelta(minutes=61), tick=False):
        later = tell(pa_police, once_within=hour)

    assert first is not None and again is None
    assert other_message is not None and other_kind is not None
    assert later is not None
    assert len(notified(pa_police)) == 4


def test_notify_once_within_tells_each_agency_and_case_apart(
    pa_police: Agency, cr_police: Agency, case: Case
) -> None:
    hour = datetime.timedelta(hours=1)
    tell(pa_police, once_within=hour)

    assert tell(cr_police, once_within=hour) is not None
    assert tell(pa_police, case_id=case.pk, once_within=hour) is not None
    assert tell(pa_police, case_id=case.pk, once_within=hour) is None


def test_notify_once_within_compares_the_message_as_stored(pa_police: Agency) -> None:
    long = "x" * (MESSAGE_LENGTH + 50)
    tell(pa_police, long, once_within=datetime.timedelta(hours=1))

    assert tell(pa_police, long, once_within=datetime.timedelta(hours=1)) is None
    assert notified(pa_police)[0][2] == "x" * MESSAGE_LENGTH


def notice(agency: Agency, case: Case | None = None, **values: Any) -> Notice:
    values.setdefault("kind", Notification.Kind.HIT)
    values.setdefault("message", "An entity of your case matched one of OIJ.")
    return Notice(agency_id=agency.pk, case_id=case.pk if case else None, **values)


def test_notify_new_writes_each_new_notice_once(pa_police: Agency, case: Case) -> None:
    batch = [notice(pa_police, case), notice(pa_police, case), notice(pa_police)]

    assert notifications.notify_new(batch) == 2
    assert notifications.notify_new(batch) == 0
    assert notified(pa_police) == [
        (Notification.Kind.HIT, case.pk, "An entity of your case matched one of OIJ.", False),
        (Notification.Kind.HIT, None, "An entity of your case matched one of OIJ.", False),
    ]


def test_notify_new_tells_notices_to_other_audiences_apart(
    pa_police: Agency, cr_police: Agency, case: Case
) -> None:
    notifications.notify_new([notice(pa_police, case)])

    written = notifications.notify_new(
        [
            notice(pa_police, case, protected_only=True),
            notice(pa_police, case, supervisors_only=True),
            notice(pa_police, case, kind=Notification.Kind.HIT_PROTECTED),
            notice(pa_police, case, message="Another match."),
            notice(cr_police, case),
        ]
    )

    assert written == 5


def test_notify_new_never_expires_what_it_wrote(pa_police: Agency, case: Case) -> None:
    with time_machine.travel(MOMENT, tick=False):
        notifications.notify_new([notice(pa_police, case)])
    with time_machine.travel(MOMENT + datetime.timedelta(days=400), tick=False):
        assert notifications.notify_new([notice(pa_police, case)]) == 0


def test_notify_new_compares_the_message_as_stored(pa_police: Agency, case: Case) -> None:
    long = "y" * (MESSAGE_LENGTH + 1)
    notifications.notify_new([notice(pa_police, case, message=long)])

    assert notifications.notify_new([notice(pa_police, case, message=long + "z")]) == 0


def test_notify_new_costs_two_queries_whatever_the_number(
    pa_police: Agency, case: Case, django_assert_num_queries: Any
) -> None:
    batch = [notice(pa_police, case, message=f"Match {n}.") for n in range(20)]

    with django_assert_num_queries(2):
        assert notifications.notify_new(batch) == 20
