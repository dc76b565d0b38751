"""How many database queries the main pages cost, pinned exactly (pytest-django's
``django_assert_num_queries``), as the owner's investigator, its supervisor and a member of the
partner agency the case is shared with (``shared_case``).

A change that adds a query to a page fails here and names the page and the persona, with the
queries run: if the query is wanted, change the pin and say why in the commit. The case list
and the case page must also not grow with the data: they cost the same with 3 cases as with
30, with 2 entities as with 20.

Every page is requested once before it is counted, so that what a first request pays once per
session or process (the session row, cached content types and permission ids) is not counted.
A page that reads a case writes its access-log row: that INSERT is counted, as it is paid on
every read."""

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from casebook.models import Agency
from cases import services
from cases.models import Case, CaseShare, Entity
from cases.selectors import case_access
from cases.views.case import PAGE_SIZE
from tests.conftest import client_for
from tests.factories import make_case, make_entity

# A name of a protected person: shown to the owner, masked for the partner.
VICTIM = "María Protegida"
PHONE = "+507 6123 4567"


@pytest.fixture
def scene(
    shared_case: Case,
    investigator: User,
    outsider: User,
    django_capture_on_commit_callbacks: Any,
) -> dict[str, Any]:
    """The shared case with a victim (protected), a suspect and the suspect's phone; Costa
    Rica's police hold the same phone in a case of theirs, so that both agencies have a hit
    and a notification of it (the partner has the notification of its share)."""
    victim = make_entity(investigator, shared_case, role=Entity.Role.VICTIM, name=VICTIM)
    suspect = make_entity(investigator, shared_case, name="Suspect Visible")
    with django_capture_on_commit_callbacks(execute=True):
        make_entity(investigator, shared_case, Entity.Kind.PHONE, holder=suspect, identifier=PHONE)
    cr_case = make_case(outsider, title="Costa Rican case")
    with django_capture_on_commit_callbacks(execute=True):
        make_entity(outsider, cr_case, Entity.Kind.PHONE, identifier=PHONE)
    return {"case": shared_case, "victim": victim, "suspect": suspect}


def case_url(name: str, case: Case) -> str:
    return reverse(name, kwargs={"case": case.uuid})


def entity_url(entity: Entity) -> str:
    return reverse("cases:entity", kwargs={"case": entity.case.uuid, "entity": entity.uuid})


Url = Callable[[dict[str, Any]], str]

# (page, persona, its URL in the scene, the queries it costs). The personas: "investigator"
# (the owner's, sees everything), "supervisor" (the owner's, manages shares, reads the access
# log), "partner" (a view share without protected identities: pages masked). Every page pays
# for the session, the user, the member and the agency's groups; most for the navigation
# bar's count of unread notifications.
PAGES: list[tuple[str, str, Url, int]] = [
    ("dashboard", "investigator", lambda s: reverse("dashboard"), 14),
    ("dashboard", "supervisor", lambda s: reverse("dashboard"), 14),
    ("dashboard", "partner", lambda s: reverse("dashboard"), 12),
    ("case list", "investigator", lambda s: reverse("cases:list"), 11),
    ("case list", "supervisor", lambda s: reverse("cases:list"), 11),
    ("case list", "partner", lambda s: reverse("cases:list"), 11),
    ("case page", "investigator", lambda s: case_url("cases:detail", s["case"]), 15),
    ("case page", "supervisor", lambda s: case_url("cases:detail", s["case"]), 15),
    ("case page", "partner", lambda s: case_url("cases:detail", s["case"]), 15),
    ("entity page", "investigator", lambda s: entity_url(s["suspect"]), 17),
    ("entity page", "partner", lambda s: entity_url(s["suspect"]), 17),
    ("masked entity page", "partner", lambda s: entity_url(s["victim"]), 15),
    ("hits page", "investigator", lambda s: reverse("cases:hits"), 11),
    ("hits page", "supervisor", lambda s: reverse("cases:hits"), 11),
    ("hits page", "partner", lambda s: reverse("cases:hits"), 8),
    ("sharing page", "supervisor", lambda s: case_url("cases:shares", s["case"]), 11),
    ("history page", "investigator", lambda s: case_url("cases:history", s["case"]), 17),
    ("history page", "partner", lambda s: case_url("cases:history", s["case"]), 17),
    ("access log", "supervisor", lambda s: reverse("access_log"), 9),
    ("notifications", "investigator", lambda s: reverse("notifications"), 9),
    ("notifications", "partner", lambda s: reverse("notifications"), 9),
]


def warmed(user: User, url: str) -> Client:
    """A signed-in client that has requested ``url`` once (and got it)."""
    client = client_for(user)
    assert client.get(url).status_code == 200
    return client


@pytest.mark.parametrize(
    ("page", "persona", "url", "queries"),
    PAGES,
    ids=[f"{page.replace(' ', '-')}-{persona}" for page, persona, _u, _q in PAGES],
)
def test_each_main_page_costs_its_pinned_number_of_queries(
    page: str,
    persona: str,
    url: Url,
    queries: int,
    scene: dict[str, Any],
    request: pytest.FixtureRequest,
    django_assert_num_queries: Any,
) -> None:
    user = request.getfixturevalue(persona)
    address = url(scene)
    client = warmed(user, address)
    with django_assert_num_queries(queries):
        response = client.get(address)
    assert response.status_code == 200


def test_the_partner_s_pages_show_the_case_masked(
    scene: dict[str, Any], partner: User, investigator: User
) -> None:
    """The pages counted for the partner are the masked ones (not a refusal or an empty
    page): the case is there, the victim's name is not; the owner's investigator sees it."""
    detail = case_url("cases:detail", scene["case"])
    page = client_for(partner).get(detail).content.decode()
    assert "Suspect Visible" in page
    assert VICTIM not in page
    assert VICTIM in client_for(investigator).get(detail).content.decode()
    hits = client_for(investigator).get(reverse("cases:hits")).content.decode()
    assert "Organismo de Investigación Judicial" in hits


# --- pages that must not grow with the data -------------------------------------------------

CASE_LIST_QUERIES = {"investigator": 11, "partner": 11}
CASE_PAGE_QUERIES = {"investigator": 15, "partner": 15}


@pytest.fixture
def many_cases(
    request: pytest.FixtureRequest,
    investigator: User,
    supervisor: User,
    partner_agency: Agency,
) -> int:
    """``request.param`` cases of the owner agency, each shared with the partner agency."""
    count: int = request.param
    for n in range(count):
        the_case = make_case(investigator, title=f"Case {n}")
        services.case_share(
            access=case_access(supervisor, the_case),
            agency=partner_agency,
            level=CaseShare.Level.VIEW,
            purpose="Joint investigation",
        )
    return count


@pytest.mark.parametrize("many_cases", [3, 30], indirect=True)
@pytest.mark.parametrize("persona", ["investigator", "partner"])
def test_the_case_list_costs_the_same_with_3_or_30_cases(
    many_cases: int,
    persona: str,
    request: pytest.FixtureRequest,
    django_assert_num_queries: Any,
) -> None:
    client = warmed(request.getfixturevalue(persona), reverse("cases:list"))
    with django_assert_num_queries(CASE_LIST_QUERIES[persona]):
        response = client.get(reverse("cases:list"))
    page = response.context["page"]
    # 30 cases are more than a page: the count and the page cost no more than 3 cases do.
    assert page.paginator.count == many_cases
    assert len(page.object_list) == min(many_cases, PAGE_SIZE)


@pytest.mark.parametrize("entities", [2, 20])
@pytest.mark.parametrize("persona", ["investigator", "partner"])
def test_the_case_page_costs_the_same_with_2_or_20_entities(
    entities: int,
    persona: str,
    shared_case: Case,
    investigator: User,
    request: pytest.FixtureRequest,
    django_assert_num_queries: Any,
) -> None:
    """Half of the entities are suspects, half victims (masked for the partner)."""
    suspects = {f"Person {n:02d}" for n in range(0, entities, 2)}
    victims = {f"Person {n:02d}" for n in range(1, entities, 2)}
    for name in sorted(suspects | victims):
        role = Entity.Role.VICTIM if name in victims else Entity.Role.SUSPECT
        make_entity(investigator, shared_case, role=role, name=name)
    url = case_url("cases:detail", shared_case)
    client = warmed(request.getfixturevalue(persona), url)
    with django_assert_num_queries(CASE_PAGE_QUERIES[persona]):
        response = client.get(url)
    content = response.content.decode()
    shown = {name for name in suspects | victims if name in content}
    assert shown == (suspects | victims if persona == "investigator" else suspects)
