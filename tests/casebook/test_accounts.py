"""Members choose their own passwords; roles that see protected identities are recorded and
notified; supervisors' and administrators' actions on accounts are in the access log."""

import datetime
import re
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from casebook import accounts, services
from casebook.models import AccessLog, Notification, PasswordLink, RoleChange
from tests.conftest import client_for
from tests.factories import PASSWORD

User = get_user_model()
STRONG = "river-lantern-quietly-47"
LINK = re.compile(r"https?://\S+/account/set-password/\S+/")


def new_member(client: Client, **overrides: Any) -> Any:
    data = {
        "username": "ana.torres",
        "first_name": "Ana",
        "last_name": "Torres",
        "email": "ana.torres@senafront.example",
        "roles": ["analyst"],
        **overrides,
    }
    return client.post(reverse("member_add"), data)


def link_in(message: Any) -> str:
    found = LINK.search(message.body)
    assert found is not None, message.body
    return found.group(0).removeprefix("http://testserver")


def set_password(client: Client, path: str, password: str = STRONG) -> Any:
    return client.post(path, {"new_password1": password, "new_password2": password})


def signs_in(username: str, password: str) -> bool:
    client = Client()
    client.post(reverse("login"), {"username": username, "password": password})
    return "_auth_user_id" in client.session


@pytest.fixture
def enrolment(
    supervisor: Any, django_capture_on_commit_callbacks: Any, mailoutbox: Any
) -> tuple[Any, str]:
    """A member just added by the supervisor, and the path of the link e-mailed to them."""
    with django_capture_on_commit_callbacks(execute=True):
        assert new_member(client_for(supervisor)).status_code == 302
    (message,) = mailoutbox
    assert message.to == ["ana.torres@senafront.example"]
    return User.objects.get(username="ana.torres"), link_in(message)


# --- enrolment links -----------------------------------------------------------------------


def test_enrolment_link_sets_the_password_once_and_then_is_dead(
    enrolment: tuple[Any, str],
) -> None:
    user, path = enrolment
    client = Client()
    page = client.get(path, follow=True)
    assert page.status_code == 200
    assert 'name="new_password1"' in page.content.decode()
    # The token leaves the address bar at once (as Django's reset links do).
    (landed, _status), *_ = page.redirect_chain
    assert path.rstrip("/").rsplit("/", 1)[1] not in landed
    response = set_password(client, landed)
    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert signs_in("ana.torres", STRONG)
    again = Client().get(path, follow=True)
    assert again.status_code == 404
    assert "already used" in again.content.decode()
    assert 'name="new_password1"' not in again.content.decode()
    set_password(Client(), path, "another-password-9876")
    user.refresh_from_db()
    assert user.check_password(STRONG)


def test_expired_enrolment_link_is_refused_with_a_clear_message(
    enrolment: tuple[Any, str],
) -> None:
    user, path = enrolment
    later = timezone.now() + datetime.timedelta(hours=72, minutes=1)
    with time_machine.travel(later):
        page = Client().get(path, follow=True)
        assert page.status_code == 410
        assert "This link has expired" in page.content.decode()
        set_password(Client(), path)
    user.refresh_from_db()
    assert not user.has_usable_password()


def test_enrolment_link_expiry_is_configurable(
    enrolment: tuple[Any, str], settings: Any, supervisor: Any
) -> None:
    settings.CASEBOOK_ENROLMENT_HOURS = 1
    user = User.objects.get(username="ana.torres")
    token = accounts.password_link_issue(user=user, purpose="enrol", actor=supervisor)
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=61)):
        assert accounts.password_link_find(token) == (None, accounts.EXPIRED)


def test_a_newer_link_kills_the_earlier_one(enrolment: tuple[Any, str], supervisor: Any) -> None:
    user, path = enrolment
    services.member_link_send(actor=supervisor, user=user, base_url="http://testserver")
    assert Client().get(path, follow=True).status_code == 404


def test_enrolment_link_refuses_a_weak_password_next_to_the_field(
    enrolment: tuple[Any, str],
) -> None:
    user, path = enrolment
    response = set_password(Client(), path, "short")
    assert response.status_code == 200
    assert "too short" in " ".join(response.context["form"].errors["new_password2"])
    user.refresh_from_db()
    assert not user.has_usable_password()


def test_only_a_hash_of_the_token_is_stored(enrolment: tuple[Any, str]) -> None:
    _user, path = enrolment
    token = path.rstrip("/").rsplit("/", 1)[1]
    assert not PasswordLink.objects.filter(token_hash__contains=token).exists()
    assert PasswordLink.objects.get().token_hash != token


def test_a_made_up_link_is_refused(db: Any) -> None:
    path = reverse("account_set_password", kwargs={"token": "made-up"})
    assert Client().get(path, follow=True).status_code == 404


# --- roles ---------------------------------------------------------------------------------


def test_role_seeing_protected_identities_is_recorded_notified_and_shown(
    supervisor: Any,
    analyst: Any,
    investigator: Any,
    django_capture_on_commit_callbacks: Any,
    mailoutbox: Any,
) -> None:
    client = client_for(supervisor)
    url = reverse("member_edit", kwargs={"member": analyst.member.uuid})
    data = {
        "first_name": analyst.first_name,
        "last_name": analyst.last_name,
        "email": analyst.email,
        "roles": ["analyst", "investigator"],
    }
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, data).status_code == 302
    change = RoleChange.objects.get()
    assert (change.member, change.role, change.added, change.actor) == (
        analyst.member,
        "investigator",
        True,
        supervisor,
    )
    notice = Notification.objects.get(kind=Notification.Kind.ROLE_ADDED)
    assert (notice.agency, notice.supervisors_only) == (analyst.member.agency, True)
    assert "sup.pa" in notice.message and "ana.pa" in notice.message
    assert [message.to for message in mailoutbox] == [[analyst.email]]
    assert "sup.pa" in mailoutbox[0].body
    page = client.get(url).content.decode()
    assert "Role changes" in page
    assert "Investigator given" in page and "by sup.pa" in page
    # For the agency's supervisors: not on the notifications of the other members.
    assert (
        notice.message
        not in client_for(investigator).get(reverse("notifications")).content.decode()
    )
    row = AccessLog.objects.get(action=AccessLog.Action.ACCOUNT)
    assert (row.username, row.detail) == ("sup.pa", "roles +investigator: ana.pa")


def test_a_role_that_sees_no_protected_identity_is_recorded_but_not_notified(
    supervisor: Any, investigator: Any, mailoutbox: Any
) -> None:
    services.member_update(
        actor=supervisor, member=investigator.member, roles=["investigator", "analyst"]
    )
    assert RoleChange.objects.filter(role="analyst", added=True).exists()
    assert not Notification.objects.exists()
    assert not mailoutbox


# --- the member's own password -------------------------------------------------------------


@pytest.fixture
def must_change(investigator: Any) -> Any:
    member = investigator.member
    member.password_change_required = True
    member.save()
    return investigator


@pytest.mark.parametrize(
    "name", ["dashboard", "cases:list", "notifications", "cases:hits", "admin:index"]
)
def test_forced_password_change_redirects_every_page_until_changed(
    must_change: Any, name: str
) -> None:
    client = client_for(must_change)
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"] == reverse("account_password_change")
    page = client.get(reverse("account_password_change"))
    assert page.status_code == 200
    assert "chosen by somebody else" in page.content.decode()
    changed = client.post(
        reverse("account_password_change"),
        {"old_password": PASSWORD, "new_password1": STRONG, "new_password2": STRONG},
    )
    assert changed.status_code == 302
    assert client.get(reverse("dashboard")).status_code == 200
    must_change.member.refresh_from_db()
    assert not must_change.member.password_change_required


def test_forced_password_change_also_stops_posts(must_change: Any, case: Any) -> None:
    response = client_for(must_change).post(reverse("notifications"), {})
    assert response.status_code == 302
    assert response["Location"] == reverse("account_password_change")


def test_demo_users_keep_the_demo_password_in_demo_mode_only(pa_police: Any, settings: Any) -> None:
    from tests.factories import make_member

    demo_user = make_member(pa_police, "investigator", username="investigator.pa")
    demo_user.member.password_change_required = True
    demo_user.member.save()
    settings.DEBUG = True
    assert accounts.demo_mode()
    assert client_for(demo_user).get(reverse("dashboard")).status_code == 200
    settings.CASEBOOK_DEMO_MODE = False
    assert client_for(demo_user).get(reverse("dashboard")).status_code == 302
    settings.CASEBOOK_DEMO_MODE = True
    settings.DEBUG = False
    assert not accounts.demo_mode()
    assert client_for(demo_user).get(reverse("dashboard")).status_code == 302


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", "This password is too short"),
        ("password1234", "This password is too common"),
        ("483920174628", "This password is entirely numeric"),
    ],
)
def test_password_change_page_rejects_a_weak_password_with_a_clear_error(
    investigator: Any, password: str, message: str
) -> None:
    response = client_for(investigator).post(
        reverse("account_password_change"),
        {"old_password": PASSWORD, "new_password1": password, "new_password2": password},
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert "is-invalid" in response.content.decode()
    investigator.refresh_from_db()
    assert investigator.check_password(PASSWORD)


def test_password_change_needs_the_current_password(investigator: Any) -> None:
    response = client_for(investigator).post(
        reverse("account_password_change"),
        {"old_password": "not-my-password", "new_password1": STRONG, "new_password2": STRONG},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["old_password"]
    investigator.refresh_from_db()
    assert investigator.check_password(PASSWORD)


def test_password_change_keeps_the_member_signed_in(investigator: Any) -> None:
    client = client_for(investigator)
    client.post(
        reverse("account_password_change"),
        {"old_password": PASSWORD, "new_password1": STRONG, "new_password2": STRONG},
    )
    assert client.get(reverse("dashboard")).status_code == 200
    assert signs_in(investigator.username, STRONG)


# --- reset by e-mail -----------------------------------------------------------------------


def test_password_reset_does_not_reveal_whether_an_address_exists(
    investigator: Any, mailoutbox: Any
) -> None:
    known = Client().post(reverse("password_reset"), {"email": investigator.email})
    unknown = Client().post(reverse("password_reset"), {"email": "nobody@nowhere.example"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == reverse("password_reset_done")
    assert [message.to for message in mailoutbox] == [[investigator.email]]
    done = Client().get(reverse("password_reset_done")).content.decode()
    assert "If the address belongs to an account" in done


def test_password_reset_link_sets_a_new_password_and_lifts_a_forced_change(
    must_change: Any, mailoutbox: Any
) -> None:
    Client().post(reverse("password_reset"), {"email": must_change.email})
    found = re.search(r"http://testserver(/account/reset/\S+/)", mailoutbox[0].body)
    assert found is not None
    client = Client()
    form_page = client.get(found.group(1), follow=True)
    assert form_page.status_code == 200
    response = set_password(client, form_page.redirect_chain[-1][0])
    assert response["Location"] == reverse("password_reset_complete")
    must_change.refresh_from_db()
    assert must_change.check_password(STRONG)
    assert not must_change.member.password_change_required
    assert Client().get(found.group(1), follow=True).context["validlink"] is False


# --- the access log ------------------------------------------------------------------------


def test_supervisor_actions_on_accounts_are_logged_under_their_name(
    supervisor: Any, investigator: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for(supervisor)
    with django_capture_on_commit_callbacks(execute=True):
        new_member(client)
    url = reverse("member_edit", kwargs={"member": investigator.member.uuid})
    client.post(url, {"action": "send_link"})
    client.post(url, {"action": "deactivate"})
    rows = AccessLog.objects.filter(action=AccessLog.Action.ACCOUNT).order_by("id")
    assert [(row.username, row.detail) for row in rows] == [
        ("sup.pa", "add member: ana.torres"),
        ("sup.pa", "roles +analyst: ana.torres"),
        ("sup.pa", "send enrol link: ana.torres"),
        ("sup.pa", "send reset link: inv.pa"),
        ("sup.pa", "deactivate: inv.pa"),
    ]
    assert {row.agency_id for row in rows} == {supervisor.member.agency_id}


# --- the first administrator ---------------------------------------------------------------


def test_create_administrator_prints_a_one_time_link(db: Any) -> None:
    out = StringIO()
    call_command(
        "create_administrator", "root", "--email", "root@example.org", "--base-url",
        "https://casebook.example", stdout=out,
    )  # fmt: skip
    user = User.objects.get(username="root")
    assert user.is_superuser and user.is_staff
    assert not user.has_usable_password()
    found = re.search(r"https://casebook\.example(/account/set-password/\S+/)", out.getvalue())
    assert found is not None
    response = set_password(Client(), found.group(1))
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(STRONG)
    with pytest.raises(CommandError, match="not an administrator without a password"):
        call_command("create_administrator", "root", "--email", "root@example.org")


def test_a_changed_email_is_told_to_the_old_address_and_the_supervisors(
    supervisor: Any, analyst: Any, django_capture_on_commit_callbacks: Any, mailoutbox: Any
) -> None:
    old = analyst.email
    with django_capture_on_commit_callbacks(execute=True):
        services.member_update(actor=supervisor, member=analyst.member, email="new@example.org")
    assert [message.to for message in mailoutbox] == [[old]]
    assert "new@example.org" in mailoutbox[0].body
    notice = Notification.objects.get(kind=Notification.Kind.ACCOUNT_CHANGED)
    assert notice.supervisors_only
    assert "sup.pa" in notice.message and "ana.pa" in notice.message
    row = AccessLog.objects.get(action=AccessLog.Action.ACCOUNT)
    assert (row.username, row.detail) == ("sup.pa", "change email: ana.pa")


def test_supervisors_see_an_administrators_action_on_their_member_in_their_access_log(
    supervisor: Any, investigator: Any, django_user_model: Any
) -> None:
    root = django_user_model.objects.create_superuser("root", "root@example.org", "x" * 16)
    services.user_update(actor=root, user=investigator, values={"email": "elsewhere@example.org"})
    page = client_for(supervisor).get(reverse("access_log")).content.decode()
    assert "change email: inv.pa" in page
    assert "root" in page


def test_the_sign_in_page_offers_the_reset_and_the_security_page_the_change(
    investigator: Any,
) -> None:
    sign_in_page = Client().get(reverse("login")).content.decode()
    assert f'href="{reverse("password_reset")}"' in sign_in_page
    security_page = client_for(investigator).get(reverse("signin:security")).content.decode()
    assert f'href="{reverse("account_password_change")}"' in security_page
