"""Two-factor sign-in in a real browser: set up an authenticator from the set-up page's key,
then sign in again with a code computed from that key, as an authenticator app would."""

import re
from base64 import b32decode
from typing import Any

import pytest
from django.urls import reverse
from django_otp.oath import totp

from tests.factories import PASSWORD

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def expect_path(page: Any, pattern: str) -> None:
    page.wait_for_url(re.compile(rf"^https?://[^/]+{pattern}(\?.*)?(#.*)?$"))


def sign_in_with_password(page: Any, user: Any) -> None:
    page.goto(reverse("cases:list"))
    expect_path(page, reverse("login"))
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_a_member_sets_up_an_authenticator_and_signs_in_with_its_code(
    settings: Any, new_page: Any, investigator: Any
) -> None:
    settings.CASEBOOK_REQUIRE_2FA = True
    page = new_page()
    sign_in_with_password(page, investigator)
    expect_path(page, reverse("signin:two_factor_setup"))
    qr_code = page.locator("#two-factor-qr")
    assert qr_code.evaluate("image => image.complete && image.naturalWidth > 0")
    key = b32decode(page.locator("#two-factor-secret").inner_text().replace(" ", ""))

    page.get_by_label("Code from your app").fill(f"{totp(key):06d}")
    page.get_by_role("button", name="Confirm").click()
    codes = page.locator("#recovery-codes li")
    codes.first.wait_for()
    assert codes.count() == 10
    page.get_by_role("link", name="I have kept them, continue").click()
    expect_path(page, reverse("cases:list"))
    page.get_by_role("button", name="Sign out").click()
    expect_path(page, reverse("login"))

    sign_in_with_password(page, investigator)
    expect_path(page, reverse("signin:two_factor_verify"))
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_text("That code is not right").is_visible()
    page.wait_for_timeout(1500)  # after a wrong code the server makes one wait a second
    # The code of the next 30-second step: the one used for the set-up is spent, and the
    # server accepts one step of clock difference, as for a phone running a little ahead.
    page.get_by_label("Code").fill(f"{totp(key, drift=1):06d}")
    page.get_by_role("button", name="Sign in").click()
    expect_path(page, reverse("cases:list"))
    assert page.get_by_role("heading", name="Cases", level=1).is_visible()
