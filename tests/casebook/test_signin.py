"""The sign-in page and idle sessions."""

import datetime
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.conftest import client_for
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 12, 2, 9, 0, tzinfo=datetime.UTC)


def test_signing_in_with_the_password_reaches_the_page_asked_for(investigator: Any) -> None:
    client = Client()
    response = client.post(
        reverse("login"),
        {"username": investigator.username, "password": PASSWORD, "next": reverse("cases:list")},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:list")
    assert client.get(reverse("cases:list")).status_code == 200


def test_a_session_ends_after_thirty_minutes_without_a_request(
    investigator: Any, time_machine: Any
) -> None:
    time_machine.move_to(T0, tick=False)
    client = client_for(investigator)
    time_machine.shift(datetime.timedelta(minutes=29))
    assert client.get(reverse("dashboard")).status_code == 200
    # Activity keeps it alive: 29 minutes after the last request, not after the sign-in.
    time_machine.shift(datetime.timedelta(minutes=29))
    assert client.get(reverse("dashboard")).status_code == 200
    time_machine.shift(datetime.timedelta(minutes=30, seconds=1))
    response = client.get(reverse("cases:list"))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next=%2Fcases%2F"
    assert "_auth_user_id" not in client.session
    page = client.get(response["Location"]).content.decode()
    assert "You were signed out after 30 minutes without activity." in page


def test_the_idle_limit_is_a_setting(settings: Any, investigator: Any, time_machine: Any) -> None:
    settings.CASEBOOK_SESSION_IDLE_SECONDS = 300
    time_machine.move_to(T0, tick=False)
    client = client_for(investigator)
    time_machine.shift(datetime.timedelta(minutes=5, seconds=1))
    assert client.get(reverse("dashboard")).status_code == 302


def test_the_idle_clock_costs_no_query_on_an_ordinary_request(investigator: Any) -> None:
    client = client_for(investigator)
    client.get(reverse("notifications"))
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("notifications"))
    assert not any("django_session" in query["sql"] for query in queries.captured_queries[1:])
    assert not any(
        query["sql"].startswith("UPDATE") and "django_session" in query["sql"]
        for query in queries.captured_queries
    )
