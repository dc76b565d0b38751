"""The notifications that go with sharing: read by the recipient agency's members (protected
ones only by those who may see protected identities), linked to the case while it may be
seen, counted in the navigation bar until read."""

from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from casebook.models import Agency, Notification
from cases import services
from cases.models import Case
from cases.selectors import case_access
from tests.cases.sharing_helpers import NOTIFICATIONS, share
from tests.conftest import client_for
from tests.factories import make_case

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
    services.share_revoke(access=case_access(supervisor, the_share.case), share=the_share)
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
