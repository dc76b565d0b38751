"""Sign-in throttling and lockout (django-axes with Casebook's limits), its access log, the
supervisors' notification and unlock."""

import datetime
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from casebook.models import AccessLog, Notification
from tests.conftest import client_for
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 12, 2, 9, 0, tzinfo=datetime.UTC)


def sign_in(client: Client, username: str, password: str, address: str = "198.51.100.7") -> Any:
    return client.post(
        reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR=address,
    )


def fail_five_times(username: str, address: str = "198.51.100.7") -> None:
    client = Client()
    for _attempt in range(5):
        response = sign_in(client, username, "wrong password", address)
    # The fifth failure sets the lock and says so.
    assert response.status_code == 429


def test_five_wrong_passwords_lock_the_account_and_the_right_one_is_refused(
    investigator: Any,
) -> None:
    with time_machine.travel(T0, tick=False):
        client = Client()
        for _attempt in range(4):
            response = sign_in(client, investigator.username, "wrong password")
            assert response.status_code == 200
            assert "Please enter a correct username and password" in response.content.decode()
        response = sign_in(client, investigator.username, "wrong password")
        assert response.status_code == 429
        response = sign_in(client, investigator.username, PASSWORD)
    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many failed sign-in attempts for this account" in page
    assert "ask a supervisor of your agency to unlock it" in page
    assert "9:30" in page
    assert "_auth_user_id" not in client.session


def test_the_lock_is_for_the_account_from_any_address(investigator: Any) -> None:
    with time_machine.travel(T0, tick=False):
        fail_five_times(investigator.username, address="198.51.100.7")
        response = sign_in(Client(), investigator.username, PASSWORD, address="203.0.113.9")
    assert response.status_code == 429


def test_the_account_unlocks_after_thirty_minutes(investigator: Any) -> None:
    with time_machine.travel(T0, tick=False):
        fail_five_times(investigator.username)
    with time_machine.travel(T0 + datetime.timedelta(minutes=29), tick=False):
        assert sign_in(Client(), investigator.username, PASSWORD).status_code == 429
    with time_machine.travel(T0 + datetime.timedelta(minutes=30, seconds=1), tick=False):
        response = sign_in(Client(), investigator.username, PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")


def test_the_lockout_page_is_in_the_users_language(investigator: Any) -> None:
    with time_machine.travel(T0, tick=False):
        fail_five_times(investigator.username)
        response = Client().post(
            reverse("login"),
            {"username": investigator.username, "password": PASSWORD},
            HTTP_ACCEPT_LANGUAGE="es",
        )
    assert response.status_code == 429
    assert 'lang="es"' in response.content.decode()


def test_an_address_failing_against_many_accounts_is_locked_by_its_own_limit(
    settings: Any, investigator: Any, analyst: Any
) -> None:
    settings.CASEBOOK_SIGNIN_ADDRESS_FAILURE_LIMIT = 8
    client = Client()
    with time_machine.travel(T0, tick=False):
        for number in range(8):
            response = sign_in(client, f"guess.{number}", "wrong password")
        assert response.status_code == 429
        assert "from your network address" in response.content.decode()
        # Not even a right password gets through from there...
        assert sign_in(client, analyst.username, PASSWORD).status_code == 429
        # ...while the accounts themselves are not locked elsewhere.
        response = sign_in(Client(), investigator.username, PASSWORD, address="203.0.113.9")
    assert response.status_code == 302


def test_failures_and_sign_ins_are_in_the_access_log_without_the_password(
    investigator: Any, supervisor: Any
) -> None:
    client = Client()
    sign_in(client, investigator.username, "hunter2-wrong")
    sign_in(client, "x" * 120, "another-wrong")
    sign_in(client, investigator.username, PASSWORD)
    rows = list(AccessLog.objects.order_by("id").values())
    assert [row["action"] for row in rows] == ["sign_in_failed", "sign_in_failed", "sign_in"]
    failed, unknown, signed_in = rows
    assert failed["user_id"] == investigator.pk
    assert failed["agency_id"] == investigator.member.agency_id
    assert failed["remote_addr"] == "198.51.100.7"
    assert failed["detail"] == "wrong password"
    assert unknown["user_id"] is None
    assert unknown["username"] == "x" * 40
    assert signed_in["user_id"] == investigator.pk
    assert signed_in["username"] == investigator.username
    everything = " ".join(str(value) for row in rows for value in row.values())
    assert "hunter2" not in everything
    assert "another-wrong" not in everything
    assert PASSWORD not in everything
    # The agency's supervisors read them on the access-log page.
    page = client_for(supervisor).get(reverse("access_log")).content.decode()
    assert "Sign-in failed" in page
    assert "Signed in" in page


def test_a_lockout_is_logged_and_notified_to_the_agencys_supervisors(
    investigator: Any, supervisor: Any
) -> None:
    with time_machine.travel(T0, tick=False):
        fail_five_times(investigator.username)
        sign_in(Client(), investigator.username, PASSWORD)
    locked = AccessLog.objects.filter(action=AccessLog.Action.LOCKED_OUT).get()
    assert locked.user_id == investigator.pk
    assert locked.detail == "account locked until 2026-12-02 09:30 UTC"
    refused = AccessLog.objects.filter(action="sign_in_failed").order_by("-id").first()
    assert refused is not None and refused.detail == "refused: locked out"
    notification = Notification.objects.get(kind=Notification.Kind.ACCOUNT_LOCKED)
    assert notification.agency_id == investigator.member.agency_id
    assert notification.supervisors_only
    assert investigator.username in notification.message


def test_a_supervisor_unlocks_a_member_and_it_is_logged(investigator: Any, supervisor: Any) -> None:
    with time_machine.travel(T0, tick=False):
        fail_five_times(investigator.username)
        page = client_for(supervisor).get(
            reverse("member_edit", kwargs={"member": investigator.member.uuid})
        )
        response = client_for(supervisor).post(
            reverse("signin:member_unlock", kwargs={"member": investigator.member.uuid})
        )
        assert response.status_code == 302
        assert sign_in(Client(), investigator.username, PASSWORD).status_code == 302
    entry = AccessLog.objects.get(action=AccessLog.Action.ACCOUNT)
    assert entry.user_id == supervisor.pk
    assert entry.object_uuid == investigator.member.uuid
    assert entry.detail == f"unlocked {investigator.username}"
    unlock_url = reverse("signin:member_unlock", kwargs={"member": investigator.member.uuid})
    assert f'action="{unlock_url}"' in page.content.decode()
    assert "Locked after too many failed sign-in attempts" in page.content.decode()


def test_another_agencys_supervisor_cannot_unlock_a_member(
    investigator: Any, outsider: Any
) -> None:
    with time_machine.travel(T0, tick=False):
        fail_five_times(investigator.username)
        response = client_for(outsider).post(
            reverse("signin:member_unlock", kwargs={"member": investigator.member.uuid})
        )
        assert response.status_code == 404
        assert sign_in(Client(), investigator.username, PASSWORD).status_code == 429
    assert not AccessLog.objects.filter(action=AccessLog.Action.ACCOUNT).exists()


def test_a_member_who_is_not_a_supervisor_cannot_unlock(investigator: Any, analyst: Any) -> None:
    response = client_for(analyst).post(
        reverse("signin:member_unlock", kwargs={"member": investigator.member.uuid})
    )
    assert response.status_code == 403


def test_a_successful_sign_in_forgets_the_accounts_earlier_failures(investigator: Any) -> None:
    with time_machine.travel(T0, tick=False):
        client = Client()
        for _attempt in range(4):
            sign_in(client, investigator.username, "wrong password")
        assert sign_in(Client(), investigator.username, PASSWORD).status_code == 302
        for _attempt in range(4):
            response = sign_in(Client(), investigator.username, "wrong password")
    assert response.status_code == 200
