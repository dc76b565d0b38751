"""``casebook.auth.signed_in_user``: the typed way to the acting user of a request whose
sign-in check the signature cannot show (the admin's views)."""

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory

from casebook.auth import signed_in_user


def test_signed_in_user_refuses_a_request_of_nobody_signed_in() -> None:
    request = RequestFactory().get("/admin/")
    request.user = AnonymousUser()
    with pytest.raises(PermissionDenied):
        signed_in_user(request)


def test_signed_in_user_is_the_member_who_signed_in(investigator: User) -> None:
    request = RequestFactory().get("/admin/")
    request.user = investigator
    assert signed_in_user(request) is investigator
