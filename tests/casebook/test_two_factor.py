"""Two-factor sign-in: required with DEBUG off, set up with a QR code, a code or a recovery
code at each sign-in, a security page, a supervisor's reset."""

import datetime
import os
import runpy
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

import casebook
from casebook.models import AccessLog
from tests.conftest import client_for
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 12, 2, 9, 0, tzinfo=datetime.UTC)
SETTINGS_FILE = Path(casebook.__file__).parent / "settings.py"


@pytest.fixture(autouse=True)
def _required(settings: Any) -> None:
    settings.CASEBOOK_REQUIRE_2FA = True


def sign_in(client: Client, user: Any) -> Any:
    return client.post(reverse("login"), {"username": user.username, "password": PASSWORD})


def code_for(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits):06d}"


def authenticator(user: Any) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)


def recovery_code(user: Any, token: str = "abcd2345") -> str:  # noqa: S107
    device = StaticDevice.objects.create(user=user, name="recovery codes", confirmed=True)
    StaticToken.objects.create(device=device, token=token)
    return token


def verified_client(user: Any) -> Client:
    """A client signed in with both factors (the session names the device, as after the
    second step)."""
    device = TOTPDevice.objects.filter(user=user).first() or authenticator(user)
    client = client_for(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def clock(time_machine: Any) -> Any:
    """time-machine's fixture (stops travelling after the test)."""
    return time_machine


PAGES = ["dashboard", "cases:list", "notifications", "members", "signin:security"]


def test_a_member_without_an_authenticator_is_sent_to_the_set_up_from_every_page(
    supervisor: Any,
) -> None:
    client = Client()
    response = sign_in(client, supervisor)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("signin:two_factor_setup"))
    for name in PAGES:
        response = client.get(reverse(name))
        assert response.status_code == 302, name
        assert response["Location"].startswith(reverse("signin:two_factor_setup")), name
    assert not AccessLog.objects.filter(action=AccessLog.Action.SIGN_IN).exists()


def test_a_session_without_the_second_step_is_sent_to_it_when_it_is_required(
    investigator: Any,
) -> None:
    client = client_for(investigator)  # password-only, as a session from before 2FA
    response = client.get(reverse("cases:list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("signin:two_factor_verify"))
    response = client.get(response["Location"])
    assert response["Location"].startswith(reverse("signin:two_factor_setup"))


def test_the_set_up_shows_a_qr_code_and_the_key_then_ten_recovery_codes_once(
    investigator: Any, clock: Any
) -> None:
    clock.move_to(T0, tick=False)
    client = Client()
    sign_in(client, investigator)
    page = client.get(reverse("signin:two_factor_setup"))
    html = page.content.decode()
    assert 'src="data:image/svg+xml' in html
    device = TOTPDevice.objects.get(user=investigator)
    assert not device.confirmed
    assert device.config_url.replace("&", "&amp;") in html
    wrong = client.post(reverse("signin:two_factor_setup"), {"code": "000000"})
    assert "That code is not right" in wrong.content.decode()
    done = client.post(reverse("signin:two_factor_setup"), {"code": code_for(device)})
    assert done.status_code == 200
    tokens = set(
        StaticToken.objects.filter(device__user=investigator).values_list("token", flat=True)
    )
    assert len(tokens) == 10
    shown = {f"{token[:4]}-{token[4:]}" for token in tokens}
    assert all(token in done.content.decode() for token in shown)
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(reverse("dashboard")).status_code == 200
    security = client.get(reverse("signin:security")).content.decode()
    assert not any(token in security for token in shown)
    entry = AccessLog.objects.get(action=AccessLog.Action.SIGN_IN)
    assert entry.user_id == investigator.pk
    assert entry.detail == "two-factor authenticator set up"


def test_a_member_with_an_authenticator_enters_a_code_before_any_page(investigator: Any) -> None:
    device = authenticator(investigator)
    client = Client()
    response = sign_in(client, investigator)
    assert response["Location"].startswith(reverse("signin:two_factor_verify"))
    for name in PAGES:
        response = client.get(reverse(name))
        assert response["Location"].startswith(reverse("signin:two_factor_verify")), name
    response = client.post(
        reverse("signin:two_factor_verify"),
        {"code": code_for(device), "next": reverse("cases:list")},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:list")
    assert client.get(reverse("cases:list")).status_code == 200
    entry = AccessLog.objects.get(action=AccessLog.Action.SIGN_IN)
    assert entry.detail == "password + two-factor code"


def test_a_wrong_code_is_refused_with_a_clear_message_and_logged(investigator: Any) -> None:
    authenticator(investigator)
    client = Client()
    sign_in(client, investigator)
    response = client.post(reverse("signin:two_factor_verify"), {"code": "123456"})
    assert response.status_code == 200
    assert "That code is not right" in response.content.decode()
    assert client.get(reverse("dashboard")).status_code == 302
    entry = AccessLog.objects.get(action=AccessLog.Action.SIGN_IN_FAILED)
    assert entry.user_id == investigator.pk
    assert entry.detail == "wrong two-factor code"
    assert "123456" not in entry.path


def test_a_code_right_after_a_wrong_one_waits_for_the_back_off(
    investigator: Any, clock: Any
) -> None:
    device = authenticator(investigator)
    clock.move_to(T0, tick=False)
    client = Client()
    sign_in(client, investigator)
    client.post(reverse("signin:two_factor_verify"), {"code": "123456"})
    response = client.post(reverse("signin:two_factor_verify"), {"code": code_for(device)})
    assert "Wait 1 second before you try another code." in response.content.decode()
    clock.shift(datetime.timedelta(seconds=2))
    response = client.post(reverse("signin:two_factor_verify"), {"code": code_for(device)})
    assert response.status_code == 302


def test_five_wrong_codes_lock_the_account(investigator: Any, clock: Any) -> None:
    authenticator(investigator)
    clock.move_to(T0, tick=False)
    client = Client()
    sign_in(client, investigator)
    for _attempt in range(5):
        response = client.post(reverse("signin:two_factor_verify"), {"code": "123456"})
        clock.shift(datetime.timedelta(seconds=20))
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert AccessLog.objects.filter(action=AccessLog.Action.LOCKED_OUT).count() == 1


def test_a_recovery_code_works_once(investigator: Any) -> None:
    authenticator(investigator)
    token = recovery_code(investigator)
    client = Client()
    sign_in(client, investigator)
    response = client.post(reverse("signin:two_factor_verify"), {"code": " ABCD-2345 "})
    assert response.status_code == 302
    assert client.get(reverse("dashboard")).status_code == 200
    assert AccessLog.objects.get(action="sign_in").detail == "password + two-factor recovery code"
    client.post(reverse("logout"))
    again = Client()
    sign_in(again, investigator)
    response = again.post(reverse("signin:two_factor_verify"), {"code": token})
    assert response.status_code == 200
    assert "That code is not right" in response.content.decode()


def test_the_set_up_is_refused_once_an_authenticator_exists(investigator: Any) -> None:
    # A stolen password alone must not add a second authenticator.
    authenticator(investigator)
    client = Client()
    sign_in(client, investigator)
    response = client.get(reverse("signin:two_factor_setup"))
    assert response["Location"].startswith(reverse("signin:two_factor_verify"))
    assert TOTPDevice.objects.filter(user=investigator).count() == 1


def test_the_demo_skips_two_factor_only_with_debug_on_and_says_so(
    settings: Any, investigator: Any
) -> None:
    settings.DEBUG = True
    settings.CASEBOOK_REQUIRE_2FA = False
    client = Client()
    response = sign_in(client, investigator)
    assert response["Location"] == reverse("dashboard")
    page = client.get(reverse("dashboard")).content.decode()
    assert 'id="two-factor-off"' in page
    assert "two-factor sign-in is off in this demo" in page
    settings.DEBUG = False
    settings.CASEBOOK_REQUIRE_2FA = True
    assert 'id="two-factor-off"' not in Client().get(reverse("login")).content.decode()


@pytest.mark.parametrize(
    ("environment", "required"),
    [
        ({"CASEBOOK_DEBUG": "0"}, True),
        ({"CASEBOOK_DEBUG": "0", "CASEBOOK_REQUIRE_2FA": "0"}, True),
        ({"CASEBOOK_DEBUG": "1"}, False),
        ({"CASEBOOK_DEBUG": "1", "CASEBOOK_REQUIRE_2FA": "1"}, True),
    ],
)
def test_settings_require_two_factor_whenever_debug_is_off(
    environment: dict[str, str], required: bool
) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CASEBOOK_")}
    with mock.patch.dict(os.environ, {**clean, **environment}, clear=True):
        values = runpy.run_path(str(SETTINGS_FILE))
    assert values["CASEBOOK_REQUIRE_2FA"] is required


def test_the_security_page_shows_the_status_and_makes_new_recovery_codes_for_a_code(
    investigator: Any, clock: Any
) -> None:
    device = authenticator(investigator)
    old = recovery_code(investigator)
    clock.move_to(T0, tick=False)
    session_client = verified_client(investigator)
    page = session_client.get(reverse("signin:security")).content.decode()
    assert "an authenticator app has been set up" in page
    assert "You have 1 unused recovery code." in page
    wrong = session_client.post(reverse("signin:recovery_codes"), {"code": "000000"})
    assert "That code is not right" in wrong.content.decode()
    assert StaticToken.objects.filter(token=old).exists()
    clock.shift(datetime.timedelta(minutes=1))
    response = session_client.post(reverse("signin:recovery_codes"), {"code": code_for(device)})
    assert response.status_code == 200
    assert not StaticToken.objects.filter(token=old).exists()
    assert StaticToken.objects.filter(device__user=investigator).count() == 10
    assert AccessLog.objects.filter(action="account", detail="new recovery codes").count() == 1


def test_a_supervisor_resets_a_members_two_factor_and_it_is_logged(
    investigator: Any, supervisor: Any
) -> None:
    authenticator(investigator)
    recovery_code(investigator)
    response = verified_client(supervisor).post(
        reverse("signin:member_two_factor_reset", kwargs={"member": investigator.member.uuid})
    )
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=investigator).exists()
    assert not StaticDevice.objects.filter(user=investigator).exists()
    entry = AccessLog.objects.get(action=AccessLog.Action.ACCOUNT)
    assert entry.user_id == supervisor.pk
    assert entry.detail == f"two-factor reset for {investigator.username}"
    client = Client()
    assert sign_in(client, investigator)["Location"].startswith(reverse("signin:two_factor_setup"))


def test_another_agencys_supervisor_cannot_reset_two_factor(
    investigator: Any, outsider: Any
) -> None:
    authenticator(investigator)
    response = verified_client(outsider).post(
        reverse("signin:member_two_factor_reset", kwargs={"member": investigator.member.uuid})
    )
    assert response.status_code == 404
    assert TOTPDevice.objects.filter(user=investigator).exists()
