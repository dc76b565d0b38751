"""What a member who sees protected identities masked reads must not depend on them.

The permutation check in unit form: the same case is built twice, with the protected values of
its two victims (names, aliases, birth dates, nationalities, and their documents' numbers,
types and issuing countries, and their statements' contents) swapped between the two. Every
page, form, export and history page a masked member reads must then be the same once the
canary values are taken out: an order, a count or a page boundary that depended on a hidden
value would differ. Each world is built in a transaction that is rolled back, so both get
the same ids and references; only the random public ids differ, and are mapped.

Then the quasi-identifiers, the fingerprints of protected evidence, and the right to remove
a relationship or a movement that involves a protected identity.
"""

import datetime
import json
import re
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.test import Client
from django.urls import reverse

from casebook.models import Agency
from cases import protection, selectors, services
from cases.models import Case, CaseGroupObjectPermission, Entity, Movement, Relationship
from cases.selectors import case_access
from tests.conftest import client_for, restart_sequences
from tests.factories import make_case, make_entity, make_member

# The protected values of the two victims: world "ab" gives the first to victim 1 and the
# second to victim 2, world "ba" the other way round. "Aaron" sorts before the suspects,
# "Zoila" after them, and so do the document numbers.
PROTECTED: tuple[dict[str, Any], ...] = (
    {
        "name": "Aaron Canario Uno",
        "aliases": "Canarito Alias Uno",
        "birth_date": datetime.date(1990, 1, 11),
        "nationality": "VE",
        "document": {"identifier": "AA1111111", "subtype": "passport", "country": "VE"},
        "statement": b"short",
    },
    {
        "name": "Zoila Canario Dos",
        "aliases": "Canarita Alias Dos",
        "birth_date": datetime.date(2004, 12, 29),
        "nationality": "CO",
        "document": {"identifier": "ZZ9999999", "subtype": "residence_permit", "country": "CO"},
        "statement": b"a much longer statement " * 300,
    },
)
CANARIES = tuple(
    str(text)
    for values in PROTECTED
    for text in (
        values["name"],
        values["aliases"],
        values["birth_date"].isoformat(),
        values["document"]["identifier"],
    )
)
SUSPECTS = ("Marisol Alvarado", "Rigoberto Nuñez")
NOW = datetime.datetime(2026, 4, 2, 9, 30, tzinfo=datetime.UTC)


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def grant(case: Case, agency: Agency, *codenames: str) -> None:
    for codename in codenames:
        CaseGroupObjectPermission.objects.create(
            content_object=case, group=agency.group, permission_id=selectors.permission_id(codename)
        )


def build_world(investigator: Any, first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """A case with two suspects, two victims (``first`` and ``second``'s values), their
    documents and statements, relationships, a movement they facilitated, and edits."""
    case = make_case(investigator, handling_code=Case.HandlingCode.GREEN)
    world: dict[str, Any] = {"case": case}
    world["suspect_m"] = make_entity(investigator, case, name=SUSPECTS[0])
    world["suspect_r"] = make_entity(investigator, case, name=SUSPECTS[1])
    for key, values in (("victim_1", first), ("victim_2", second)):
        victim = make_entity(investigator, case, role=Entity.Role.VICTIM, name="Pendiente")
        # Edited once, so that the history holds every protected field's change.
        services.entity_update(
            access=case_access(investigator, victim.case),
            entity=victim,
            name=values["name"],
            aliases=values["aliases"],
            birth_date=values["birth_date"],
            nationality=values["nationality"],
        )
        world[key] = victim
        document = values["document"]
        world[f"document_{key[-1]}"] = make_entity(
            investigator,
            case,
            Entity.Kind.DOCUMENT,
            role=Entity.Role.OTHER,
            subtype=document["subtype"],
            identifier=document["identifier"],
            identifier_country=document["country"],
            holder=victim,
        )
        world[f"statement_{key[-1]}"] = services.evidence_add(
            access=case_access(investigator, case),
            upload=SimpleUploadedFile("statement.txt", values["statement"]),
        )
    world["phone_m"] = make_entity(investigator, case, Entity.Kind.PHONE, holder=world["suspect_m"])
    world["origin"] = make_entity(investigator, case, Entity.Kind.LOCATION, name="Bajo Chiquito")
    world["destination"] = make_entity(investigator, case, Entity.Kind.LOCATION, name="Lajas")
    pairs = (("suspect_m", "victim_1"), ("suspect_r", "victim_2"))
    for n, (source_key, target_key) in enumerate(pairs):
        world[f"recruits_{n}"] = services.relationship_add(
            access=case_access(investigator, case),
            source=world[source_key],
            target=world[target_key],
            kind="recruits",
            started_on=datetime.date(2026, 1, 5),
        )
    world["movement"] = services.movement_add(
        access=case_access(investigator, case),
        origin=world["origin"],
        destination=world["destination"],
        moved_on=datetime.date(2026, 2, 1),
        means="bus",
        people_count=4,
        facilitators=[world["suspect_r"], world["victim_2"], world["victim_1"], world["suspect_m"]],
    )
    return world


def pages(world: dict[str, Any]) -> list[str]:
    case = world["case"]

    def url(name: str, **kwargs: Any) -> str:
        return reverse(f"cases:{name}", kwargs={"case": case.uuid, **kwargs})

    return [
        url("detail"),
        url("timeline"),
        url("history"),
        url("history") + "?object=entity",
        url("export"),
        url("relationship_add"),
        url("movement_add"),
        url("entity_add", kind=Entity.Kind.PHONE),
        url("entity_edit", entity=world["phone_m"].uuid),
        url("entity", entity=world["suspect_m"].uuid),
        url("entity", entity=world["victim_1"].uuid),
        url("entity", entity=world["document_1"].uuid),
        url("evidence", evidence=world["statement_1"].uuid),
        url("evidence", evidence=world["statement_2"].uuid),
    ]


CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


def render_world(
    investigator: Any, reader: Any, first: dict[str, Any], second: dict[str, Any]
) -> tuple[list[str], dict[str, Any]]:
    """Every page ``reader`` reads of the world, as text with the world's public ids replaced
    by their names in the world (``<victim_1>``...) and the canaries taken out. The world is
    rolled back afterwards."""
    client = client_for(reader)
    restart_sequences()
    with transaction.atomic(), time_machine.travel(NOW, tick=False):
        world = build_world(investigator, first, second)
        if reader.member.agency_id != investigator.member.agency_id:
            grant(world["case"], reader.member.agency, "view_case", "contribute_case")
        rendered = [_normalised(client, url, world) for url in pages(world)]
        ids = {key: getattr(value, "pk", None) for key, value in world.items()}
        transaction.set_rollback(True)
    return rendered, ids


def _normalised(client: Client, url: str, world: dict[str, Any]) -> str:
    response = client.get(url)
    text = f"{response.status_code} {response.get('Location', '')} {response.content.decode()}"
    text = CSRF.sub("csrf", text)
    for key, value in world.items():
        text = text.replace(str(value.uuid), f"<{key}>")
    for canary in CANARIES:
        text = text.replace(canary, "<canary>")
    return text


@pytest.fixture
def contributor(cr_police: Agency) -> Any:
    """Costa Rica's investigator: the case is shared to contribute, without protected
    identities (granted inside each world)."""
    return make_member(cr_police, "investigator", username="inv.cr.masked")


@pytest.mark.parametrize("who", ["analyst", "contributor"])
def test_a_masked_reader_reads_the_same_pages_when_the_victims_values_are_swapped(
    who: str, investigator: Any, media: Path, request: pytest.FixtureRequest
) -> None:
    reader = request.getfixturevalue(who)

    swapped, swapped_ids = render_world(investigator, reader, PROTECTED[1], PROTECTED[0])
    straight, straight_ids = render_world(investigator, reader, PROTECTED[0], PROTECTED[1])

    assert swapped_ids == straight_ids  # the same world but for the protected values
    # The analyst's role may not contribute: the forms are refused, alike in both worlds.
    for url, one, other in zip(pages_urls(), straight, swapped, strict=True):
        refused = who == "analyst" and "form" in url
        assert one.startswith("403 " if refused else "200 "), url
        assert "<canary>" not in one, url
        assert one == other, url


def pages_urls() -> list[str]:
    """The names of the pages compared, for the assertion messages."""
    return [
        "detail",
        "timeline",
        "history",
        "history of entities",
        "export",
        "relationship form",
        "movement form",
        "new phone form (holders)",
        "phone edit form (holders)",
        "suspect page",
        "victim page",
        "document page",
        "statement 1",
        "statement 2",
    ]


def test_the_owners_investigator_lists_entities_by_kind_then_name(
    investigator: Any, media: Path
) -> None:
    with time_machine.travel(NOW, tick=False):
        world = build_world(investigator, PROTECTED[1], PROTECTED[0])
    case = selectors.get_case_access(investigator, world["case"].uuid)

    people = [e.name for e in selectors.entity_list(case) if e.kind == Entity.Kind.PERSON]

    assert people == [PROTECTED[0]["name"], *SUSPECTS, PROTECTED[1]["name"]]


# --- quasi-identifiers -----------------------------------------------------------------------


@pytest.fixture
def world(investigator: Any, media: Path) -> dict[str, Any]:
    return build_world(investigator, PROTECTED[0], PROTECTED[1])


def test_masked_readers_get_no_nationality_document_type_or_issuing_country_in_the_export(
    world: dict[str, Any], analyst: Any
) -> None:
    case = world["case"]

    response = client_for(analyst).get(reverse("cases:export", kwargs={"case": case.uuid}))

    entities = {e["uuid"]: e for e in json.loads(response.content)["entities"]}
    victim = entities[str(world["victim_1"].uuid)]
    document = entities[str(world["document_1"].uuid)]
    assert (victim["nationality"], victim["birth_date"], victim["name"]) == (
        "",
        None,
        f"Victim 1 of {case.reference}",
    )
    assert (document["subtype"], document["identifier_country"], document["identifier"]) == (
        "",
        "",
        "",
    )
    suspect = entities[str(world["suspect_m"].uuid)]
    assert suspect["name"] == SUSPECTS[0]


def test_masked_readers_see_no_quasi_identifier_on_pages_or_in_the_history(
    world: dict[str, Any], analyst: Any, investigator: Any
) -> None:
    case = world["case"]
    services.entity_update(
        access=case_access(investigator, world["document_1"].case),
        entity=world["document_1"],
        identifier_country="CO",
        subtype="other",
    )
    urls = [
        reverse("cases:detail", kwargs={"case": case.uuid}),
        reverse("cases:history", kwargs={"case": case.uuid}),
        reverse("cases:entity", kwargs={"case": case.uuid, "entity": world["victim_1"].uuid}),
        reverse("cases:entity", kwargs={"case": case.uuid, "entity": world["document_1"].uuid}),
        reverse("cases:entity", kwargs={"case": case.uuid, "entity": world["document_2"].uuid}),
    ]

    masked = "".join(client_for(analyst).get(url).content.decode() for url in urls).lower()
    shown = "".join(client_for(investigator).get(url).content.decode() for url in urls).lower()

    # The history shows a document's type by its code ("passport"), its page by its name.
    for quasi_identifier in ("venezuela", "colombia", "passport", "residence permit"):
        assert quasi_identifier not in masked, quasi_identifier
        assert quasi_identifier in shown, quasi_identifier


def test_the_history_hides_changes_of_a_masked_victims_quasi_identifiers_and_holder_link(
    world: dict[str, Any], analyst: Any, investigator: Any
) -> None:
    case = world["case"]
    services.entity_update(
        access=case_access(investigator, world["document_2"].case),
        entity=world["document_2"],
        holder=None,
    )
    url = reverse("cases:history", kwargs={"case": case.uuid}) + "?object=entity"

    events = client_for(analyst).get(url).context["page_obj"]

    changes = {
        (event.label, change.field): (change.old, change.new)
        for event in events
        for change in event.changes
    }
    hidden = (protection.HIDDEN_VALUE, protection.HIDDEN_VALUE)
    victim = f"Victim 1 of {case.reference}"
    assert changes[(victim, "Nationality")] == hidden
    assert changes[(victim, "Birth date")] == hidden
    assert changes[(f"Identity document of Victim 2 of {case.reference}", "Held by")] == hidden


# --- protected evidence ---------------------------------------------------------------------


def test_protected_evidence_size_hash_and_custody_hashes_are_shown_to_the_owner_only(
    world: dict[str, Any], analyst: Any, investigator: Any
) -> None:
    case = world["case"]
    statement = world["statement_2"]
    fingerprints = (statement.sha256, statement.sha256[:12], filesizeformat(statement.size))
    pages = [
        reverse("cases:detail", kwargs={"case": case.uuid}),
        reverse("cases:evidence", kwargs={"case": case.uuid, "evidence": statement.uuid}),
    ]
    export_url = reverse("cases:export", kwargs={"case": case.uuid})

    masked = "".join(client_for(analyst).get(url).content.decode() for url in pages)
    shown = "".join(client_for(investigator).get(url).content.decode() for url in pages)
    exported = {
        e["uuid"]: e for e in json.loads(client_for(analyst).get(export_url).content)["evidence"]
    }[str(statement.uuid)]

    for fingerprint in fingerprints:
        assert fingerprint not in masked, fingerprint
        assert fingerprint in shown, fingerprint
    assert (exported["size"], exported["sha256"]) == (None, "")


# --- changing what involves a protected identity --------------------------------------------


@pytest.fixture
def share(world: dict[str, Any], contributor: Any) -> Client:
    grant(world["case"], contributor.member.agency, "view_case", "contribute_case")
    return client_for(contributor)


def _remove_url(world: dict[str, Any], what: str, key: str) -> str:
    obj = world[key]
    return reverse(f"cases:{what}_remove", kwargs={"case": world["case"].uuid, what: obj.uuid})


def test_a_contributor_who_sees_a_victim_masked_may_not_remove_its_relationship_or_movement(
    world: dict[str, Any], share: Client
) -> None:
    for what, key in (("relationship", "recruits_0"), ("movement", "movement")):
        url = _remove_url(world, what, key)
        assert share.get(url).status_code == 403, what
        assert share.post(url).status_code == 403, what

    assert Relationship.objects.filter(pk=world["recruits_0"].pk).exists()
    assert Movement.objects.filter(pk=world["movement"].pk).exists()


def test_a_contributor_may_still_remove_a_relationship_between_suspects(
    world: dict[str, Any], share: Client, investigator: Any
) -> None:
    link = services.relationship_add(
        access=case_access(investigator, world["case"]),
        source=world["suspect_m"],
        target=world["suspect_r"],
        kind="communicates_with",
    )
    world["link"] = link

    response = share.post(_remove_url(world, "relationship", "link"))

    assert response.status_code == 302
    assert not Relationship.objects.filter(pk=link.pk).exists()


def test_the_owners_investigator_may_remove_a_relationship_with_a_victim(
    world: dict[str, Any], investigator: Any
) -> None:
    response = client_for(investigator).post(_remove_url(world, "relationship", "recruits_0"))

    assert response.status_code == 302
    assert not Relationship.objects.filter(pk=world["recruits_0"].pk).exists()


def test_a_contributor_may_not_remove_a_suspect_whose_removal_removes_links_to_a_victim(
    world: dict[str, Any], share: Client
) -> None:
    kwargs = {"case": world["case"].uuid, "entity": world["suspect_m"].uuid}
    url = reverse("cases:entity_remove", kwargs=kwargs)

    page = share.get(reverse("cases:entity", kwargs=kwargs)).content.decode()

    assert url not in page  # not offered
    assert reverse("cases:entity_edit", kwargs=kwargs) in page
    assert share.get(url).status_code == 403
    assert share.post(url).status_code == 403
    assert Entity.objects.filter(pk=world["suspect_m"].pk).exists()
