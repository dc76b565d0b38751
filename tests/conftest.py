"""Shared personas: an owner agency in Panama, an outsider agency in Costa Rica, and a partner
agency in Guatemala the case is shared with.

- ``investigator``: Panama border police, investigator (owns ``case``)
- ``supervisor`` / ``analyst``: the same agency, other roles
- ``outsider``: Costa Rica's judicial police, investigator; may see nothing of Panama's cases
- ``cr_supervisor`` / ``cr_investigator`` / ``cr_analyst``: more members of ``cr_police``
- ``cr_prosecution``: a second agency in Costa Rica; ``gt_police`` / ``gt_supervisor``:
  Guatemala's police and its supervisor (re-shares within and across countries)
- ``partner``: an investigator of ``partner_agency`` (Guatemala's public prosecutor), with
  which ``shared_case`` (the ``case``) is shared at the view level, without protected
  identities, by ``supervisor`` through the sharing service
"""

from collections.abc import Iterator
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.core.management.color import no_style
from django.db import connection
from django.test import Client, override_settings

from casebook.celery import app
from casebook.models import Agency, Country
from cases import selectors, services
from cases.models import Case, CaseShare
from tests.factories import AgencyFactory, make_case, make_member


@pytest.fixture(scope="session", autouse=True)
def _tasks_in_process() -> Iterator[None]:
    """Tasks run eagerly in the test process whatever broker the settings name (CI names
    RabbitMQ): a message left in a broker queue by one test would reach the real worker of
    another. Only the tests marked ``worker`` switch this off, to send their tasks to a worker.
    Session-scoped, so that module fixtures that build data (the leak test's world) have it too.
    """
    was_eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = was_eager


@pytest.fixture(scope="session", autouse=True)
def _plain_http_test_client() -> Iterator[None]:
    """The suite runs with DEBUG off, as production does, so the settings turn the HTTPS
    redirect on; the test client and the live server speak plain HTTP, and would get nothing
    but redirects. Switched off here, explicitly and for the whole session (module fixtures
    make requests too), rather than through the environment: the settings are imported by
    pytest-django before this file is read. tests/casebook/test_deploy_settings.py checks the
    redirect and HSTS themselves."""
    with override_settings(SECURE_SSL_REDIRECT=False):
        yield


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    # Real hashers cost ~100 ms per user on purpose; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session", autouse=True)
def _two_factor_not_required() -> Iterator[None]:
    """The settings require two-factor sign-in with DEBUG off; the tests sign in with
    force_login, which has no second step. Off for the whole session (module fixtures make
    requests too); tests/casebook/test_two_factor.py and tests/browser/test_two_factor.py turn
    it back on through the ``settings`` fixture."""
    with override_settings(CASEBOOK_REQUIRE_2FA=False):
        yield


@pytest.fixture
def pa_police(db: Any) -> Agency:
    return AgencyFactory.create(
        country=Country.objects.get(code="PA"),
        name="Servicio Nacional de Fronteras",
        acronym="SENAFRONT",
        kind=Agency.Kind.BORDER,
    )


@pytest.fixture
def cr_police(db: Any) -> Agency:
    return AgencyFactory.create(
        country=Country.objects.get(code="CR"),
        name="Organismo de Investigación Judicial",
        acronym="OIJ",
        kind=Agency.Kind.POLICE,
    )


@pytest.fixture
def investigator(pa_police: Agency) -> User:
    return make_member(pa_police, "investigator", username="inv.pa")


@pytest.fixture
def supervisor(pa_police: Agency) -> User:
    return make_member(pa_police, "supervisor", username="sup.pa")


@pytest.fixture
def analyst(pa_police: Agency) -> User:
    return make_member(pa_police, "analyst", username="ana.pa")


@pytest.fixture
def outsider(cr_police: Agency) -> User:
    return make_member(cr_police, "investigator", "supervisor", username="inv.cr")


@pytest.fixture
def case(investigator: User) -> Case:
    return make_case(investigator)


@pytest.fixture
def cr_supervisor(cr_police: Agency) -> User:
    return make_member(cr_police, "supervisor", username="sup.cr")


@pytest.fixture
def cr_investigator(cr_police: Agency) -> User:
    return make_member(cr_police, "investigator", username="inv.cr2")


@pytest.fixture
def cr_analyst(cr_police: Agency) -> User:
    return make_member(cr_police, "analyst", username="ana.cr")


@pytest.fixture
def cr_prosecution(db: Any) -> Agency:
    """A second agency in Costa Rica (same country as ``cr_police``)."""
    return AgencyFactory.create(country=Country.objects.get(code="CR"), name="Fiscalía CR")


@pytest.fixture
def gt_police(db: Any) -> Agency:
    return AgencyFactory.create(
        country=Country.objects.get(code="GT"), name="Policía Nacional Civil"
    )


@pytest.fixture
def gt_supervisor(gt_police: Agency) -> User:
    return make_member(gt_police, "supervisor", username="sup.gt")


@pytest.fixture
def partner_agency(db: Any) -> Agency:
    """Guatemala's public prosecutor: the agency ``shared_case`` is shared with."""
    return AgencyFactory.create(
        country=Country.objects.get(code="GT"),
        name="Ministerio Público de Guatemala",
        acronym="MP",
        kind=Agency.Kind.PROSECUTION,
    )


@pytest.fixture
def partner(partner_agency: Agency) -> User:
    """An investigator of the partner agency: sees ``shared_case``, masked, and reads only."""
    return make_member(partner_agency, "investigator", username="inv.mp.gt")


@pytest.fixture
def shared_case(case: Case, supervisor: User, partner_agency: Agency) -> Case:
    """``case``, shared by the owner's supervisor with ``partner_agency`` at the view level,
    without protected identities and without an expiry (the real service: grants, history
    and the partner's notification as a user's share makes them)."""
    services.case_share(
        access=selectors.case_access(supervisor, case),
        agency=partner_agency,
        level=CaseShare.Level.VIEW,
        purpose="Joint investigation with Guatemala's public prosecutor",
    )
    return case


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def analyze_tables() -> None:
    """Give PostgreSQL's planner the statistics of the rows a test has just written inside
    its open transaction. Autovacuum never sees uncommitted rows, so without this every
    table looks empty and the planner picks nested loops of sequential scans that take
    seconds on a world of a few hundred rows; a production database has its statistics
    (autovacuum analyses after bulk writes). ANALYZE may run inside a transaction and counts
    the transaction's own rows. Nothing to do on SQLite."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def restart_sequences() -> None:
    """Set the primary-key sequences back to the rows there are. PostgreSQL does not roll
    sequences back with a transaction: a test that builds the same world twice, rolling the
    first back, calls this before each build so that both get the same primary keys (forms'
    drop-downs show them). SQLite needs nothing, but the statements do no harm there."""
    statements = connection.ops.sequence_reset_sql(no_style(), list(apps.get_models()))
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
