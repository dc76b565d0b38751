"""Protected identities: victims, witnesses and informants, and what they hold, are shown by
pseudonym to every member who may not see them, on every page, and never saved masked.

The world: Panama's border police own a case with a victim, her phone, passport and e-mail, a
safe house recorded as hers, a witness, a suspect who recruits the victim, a movement from the
safe house, and a protected and an open evidence file; each identifying value is a marker
string. Viewers without the right: Panama's analyst (their role lacks it), Guatemala's
investigator (a view share without protected identities), Costa Rica's investigator (a
contribute share without them).
"""

import datetime
import importlib
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from casebook import demo
from casebook.models import Agency, Country
from cases import protection, selectors, services
from cases.models import (
    Case,
    CaseGroupObjectPermission,
    Entity,
    Evidence,
    Movement,
    Relationship,
)
from cases.permissions import CaseAccess
from cases.selectors import case_access
from tests.conftest import client_for
from tests.factories import AgencyFactory, make_case, make_entity, make_member

VICTIM_NAME = "Marcadora Victima Zeta"
NEW_VICTIM_NAME = "Renombrada Victima Zeta"
MARKERS = (
    VICTIM_NAME,
    NEW_VICTIM_NAME,
    "Zetita Alias",
    "1961-02-17",
    "Feb. 17, 1961",
    "6543 2109",
    "65432109",
    "ZP7788123",
    "zeta.marcadora",
    "Casa Segura Marcadora",
    "8.123456",
    "77.654321",
    "Descripcion Victima Marcadora",
    "Testigo Marcador Omega",
    "Nota Evidencia Marcadora",
    "Descripcion Movimiento Marcadora",
    "zeta-statement",
    "Declaracion Marcadora",
    "application/pdf",
)
# Seen by everyone who may see the case.
SUSPECT_NAME = "Pedro Sospechoso Visible"
OPEN_EVIDENCE = "route-map.png"


def grant(case: Case, agency: Agency, *codenames: str) -> None:
    """What a share gives: the agency's group holds ``codenames`` on the case."""
    for codename in codenames:
        CaseGroupObjectPermission.objects.create(
            content_object=case, group=agency.group, permission_id=selectors.permission_id(codename)
        )


def leaked(body: str) -> list[str]:
    text = body.lower()
    return [marker for marker in MARKERS if marker.lower() in text]


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def world(investigator: Any, case: Case, media: Path) -> dict[str, Any]:
    victim = make_entity(
        investigator,
        case,
        role=Entity.Role.VICTIM,
        name=VICTIM_NAME,
        aliases="Zetita Alias",
        birth_date=datetime.date(1961, 2, 17),
        nationality="VE",
        description="Descripcion Victima Marcadora",
    )
    phone = make_entity(
        investigator,
        case,
        Entity.Kind.PHONE,
        role=Entity.Role.OTHER,
        identifier="+507 6543 2109",
        identifier_country="PA",
        holder=victim,
    )
    passport = make_entity(
        investigator,
        case,
        Entity.Kind.DOCUMENT,
        role=Entity.Role.OTHER,
        subtype="passport",
        identifier="ZP7788123",
        identifier_country="VE",
        holder=victim,
    )
    email = make_entity(
        investigator,
        case,
        Entity.Kind.ONLINE,
        role=Entity.Role.OTHER,
        subtype="email",
        identifier="zeta.marcadora@example.org",
        holder=victim,
    )
    safe_house = make_entity(
        investigator,
        case,
        Entity.Kind.LOCATION,
        role=Entity.Role.VICTIM,
        name="Casa Segura Marcadora",
        subtype="safe_house",
        latitude=Decimal("8.123456"),
        longitude=Decimal("-77.654321"),
    )
    camp = make_entity(investigator, case, Entity.Kind.LOCATION, name="Bajo Chiquito")
    witness = make_entity(
        investigator, case, role=Entity.Role.WITNESS, name="Testigo Marcador Omega"
    )
    suspect = make_entity(investigator, case, role=Entity.Role.RECRUITER, name=SUSPECT_NAME)
    relationship = services.relationship_add(
        access=case_access(investigator, case),
        source=suspect,
        target=victim,
        kind="recruits",
        started_on=datetime.date(2026, 1, 10),
        evidence_note="Nota Evidencia Marcadora",
    )
    movement = services.movement_add(
        access=case_access(investigator, case),
        origin=safe_house,
        destination=camp,
        moved_on=datetime.date(2026, 2, 1),
        means="bus",
        people_count=3,
        facilitators=[suspect],
        description="Descripcion Movimiento Marcadora",
    )
    protected_file = services.evidence_add(
        access=case_access(investigator, case),
        upload=SimpleUploadedFile(
            "zeta-statement.pdf", b"%PDF statement", content_type="application/pdf"
        ),
        description="Declaracion Marcadora",
    )
    open_file = services.evidence_add(
        access=case_access(investigator, case),
        upload=SimpleUploadedFile(OPEN_EVIDENCE, b"\x89PNG map", content_type="image/png"),
        protected=False,
    )
    # An edit of the victim's name: both the old and the new name are in the history.
    services.entity_update(
        access=case_access(investigator, victim.case), entity=victim, name=NEW_VICTIM_NAME
    )
    return {
        "victim": victim,
        "phone": phone,
        "passport": passport,
        "email": email,
        "safe_house": safe_house,
        "camp": camp,
        "witness": witness,
        "suspect": suspect,
        "relationship": relationship,
        "movement": movement,
        "protected_file": protected_file,
        "open_file": open_file,
    }


@pytest.fixture
def gt_police(db: Any) -> Agency:
    return AgencyFactory.create(
        country=Country.objects.get(code="GT"), name="Policía Nacional Civil"
    )


@pytest.fixture
def viewer(case: Case, gt_police: Agency) -> Any:
    """Guatemala's investigator: the case is shared for view, without protected identities."""
    grant(case, gt_police, "view_case")
    return make_member(gt_police, "investigator", username="inv.gt")


@pytest.fixture
def contributor(case: Case, cr_police: Agency, outsider: Any) -> Any:
    """Costa Rica's investigator: shared to contribute, without protected identities."""
    grant(case, cr_police, "view_case", "contribute_case")
    return outsider


def case_url(name: str, case: Case, **kwargs: Any) -> str:
    return reverse(f"cases:{name}", kwargs={"case": case.uuid, **kwargs})


def read_pages(case: Case, world: dict[str, Any]) -> list[str]:
    """Every page a viewer of the case reads about it."""
    urls = [
        case_url("detail", case),
        case_url("timeline", case),
        case_url("history", case),
        case_url("history", case) + "?object=entity",
        case_url("evidence", case, evidence=world["protected_file"].uuid),
        case_url("evidence", case, evidence=world["open_file"].uuid),
    ]
    urls += [
        case_url("entity", case, entity=entity.uuid)
        for key, entity in world.items()
        if isinstance(entity, Entity)
    ]
    return urls


# --- pseudonyms and masking ----------------------------------------------------------------


def test_pseudonym_names_the_role_its_number_and_the_case(
    world: dict[str, Any], case: Case
) -> None:
    reference = case.reference
    assert protection.pseudonym(world["victim"], reference) == f"Victim 1 of {reference}"
    assert protection.pseudonym(world["safe_house"], reference) == f"Victim 2 of {reference}"
    assert protection.pseudonym(world["witness"], reference) == f"Witness 1 of {reference}"


def test_what_a_victim_holds_is_protected_and_named_after_her(
    world: dict[str, Any], case: Case
) -> None:
    phone, suspect = world["phone"], world["suspect"]
    assert protection.is_protected(phone)
    assert not protection.is_protected(suspect)
    assert (
        protection.pseudonym(phone, case.reference)
        == f"Phone number of Victim 1 of {case.reference}"
    )


def test_mask_entity_blanks_the_same_instance_and_its_protected_holder(
    world: dict[str, Any], case: Case
) -> None:
    passport = Entity.objects.select_related("holder", "case").get(pk=world["passport"].pk)

    masked = protection.mask_entity(passport)

    assert masked is passport
    assert masked.name == f"Identity document of Victim 1 of {case.reference}"
    assert (masked.identifier, masked.description) == ("", "")
    assert protection.is_masked(masked)
    holder = masked.holder
    assert holder is not None and protection.is_masked(holder)
    assert holder.name == f"Victim 1 of {case.reference}"
    assert (holder.aliases, holder.birth_date, holder.description) == ("", None, "")
    # Quasi-identifiers go too: with a pseudonym's other facts they single a person out.
    assert (holder.nationality, masked.subtype, masked.identifier_country) == ("", "", "")


def test_mask_entity_leaves_unprotected_entities_alone(world: dict[str, Any]) -> None:
    suspect = Entity.objects.select_related("holder", "case").get(pk=world["suspect"].pk)

    assert protection.mask_entity(suspect).name == SUSPECT_NAME
    assert not protection.is_masked(suspect)


def test_a_masked_entity_can_be_neither_saved_nor_deleted(world: dict[str, Any]) -> None:
    victim = protection.mask_entity(
        Entity.objects.select_related("case").get(pk=world["victim"].pk)
    )

    with pytest.raises(RuntimeError):
        victim.save()
    with pytest.raises(RuntimeError):
        victim.delete()
    assert Entity.objects.get(pk=victim.pk).name == NEW_VICTIM_NAME


def test_a_masked_relationship_movement_or_evidence_file_can_be_neither_saved_nor_deleted(
    world: dict[str, Any], analyst: Any, case: Case
) -> None:
    # As the analyst reads them: masked (a victim at one end, a protected file).
    access = case_access(analyst, case)
    relationship = selectors.relationship_list(access).get(pk=world["relationship"].pk)
    movement = selectors.movement_list(access).get(pk=world["movement"].pk)
    evidence = selectors.evidence_list(access).get(pk=world["protected_file"].pk)

    for masked in (relationship, movement, evidence):
        assert protection.is_masked(masked)
        with pytest.raises(RuntimeError):
            masked.save()
        with pytest.raises(RuntimeError):
            masked.delete()
    assert Relationship.objects.get(pk=relationship.pk).evidence_note
    assert Movement.objects.get(pk=movement.pk).description == "Descripcion Movimiento Marcadora"
    assert Evidence.objects.get(pk=evidence.pk).original_name == "zeta-statement.pdf"


def test_mask_entities_fails_closed_for_an_access_without_view_protected(
    world: dict[str, Any], case: Case, investigator: Any
) -> None:
    # Not read through a selector: an access value that grants nothing, even to the owner.
    bare = CaseAccess(user=investigator, case=Case.objects.get(pk=case.pk), actions=frozenset())

    names = {e.name for e in protection.mask_entities(Entity.objects.filter(case=case), bare)}

    assert NEW_VICTIM_NAME not in names
    assert f"Victim 1 of {case.reference}" in names


def test_entity_list_is_masked_for_the_analyst_and_not_for_the_investigator(
    world: dict[str, Any], case: Case, investigator: Any, analyst: Any
) -> None:
    for_analyst = selectors.get_case_access(analyst, case.uuid)
    for_investigator = selectors.get_case_access(investigator, case.uuid)

    analyst_names = {e.name for e in selectors.entity_list(for_analyst)}
    investigator_names = {e.name for e in selectors.entity_list(for_investigator)}

    assert NEW_VICTIM_NAME in investigator_names
    assert NEW_VICTIM_NAME not in analyst_names
    assert f"Victim 1 of {case.reference}" in analyst_names
    assert SUSPECT_NAME in analyst_names
    # Chained querysets stay masked.
    people = selectors.entity_list(for_analyst).filter(kind=Entity.Kind.PERSON).order_by("id")
    first = people.first()
    assert first is not None
    assert first.name == f"Victim 1 of {case.reference}"


def test_match_keys_of_a_masked_entity_are_not_listed(
    world: dict[str, Any], case: Case, analyst: Any, investigator: Any
) -> None:
    phone = world["phone"]

    _access, masked = selectors.get_entity_for_user(analyst, case.uuid, phone.uuid)
    _access, visible = selectors.get_entity_for_user(investigator, case.uuid, phone.uuid)

    assert list(selectors.match_key_list(masked)) == []
    assert [k.key for k in selectors.match_key_list(visible)] == ["phone:+50765432109"]


# --- pseudonym numbers ---------------------------------------------------------------------


def test_protected_numbers_count_per_case_and_role(investigator: Any, case: Case) -> None:
    first = make_entity(investigator, case, role=Entity.Role.VICTIM, name="A")
    suspect = make_entity(investigator, case, role=Entity.Role.SUSPECT, name="B")
    second = make_entity(investigator, case, role=Entity.Role.VICTIM, name="C")
    witness = make_entity(investigator, case, role=Entity.Role.WITNESS, name="D")
    other_case = make_case(investigator)
    elsewhere = make_entity(investigator, other_case, role=Entity.Role.VICTIM, name="E")

    assert (first.protected_number, second.protected_number) == (1, 2)
    assert witness.protected_number == 1
    assert suspect.protected_number is None
    assert elsewhere.protected_number == 1


def test_a_pseudonym_is_stable_across_edits(investigator: Any, case: Case) -> None:
    make_entity(investigator, case, role=Entity.Role.VICTIM, name="A")
    victim = make_entity(investigator, case, role=Entity.Role.VICTIM, name="B")

    services.entity_update(
        access=case_access(investigator, victim.case), entity=victim, name="B2", aliases="Bee"
    )
    services.entity_update(
        access=case_access(investigator, victim.case), entity=victim, description="Seen in Yaviza"
    )

    victim.refresh_from_db()
    assert protection.pseudonym(victim, case.reference) == f"Victim 2 of {case.reference}"


def test_a_new_protected_role_gives_a_new_number_and_the_old_role_its_old_one(
    investigator: Any, case: Case
) -> None:
    make_entity(investigator, case, role=Entity.Role.WITNESS, name="W")
    person = make_entity(investigator, case, role=Entity.Role.VICTIM, name="P")

    services.entity_update(
        access=case_access(investigator, person.case), entity=person, role=Entity.Role.WITNESS
    )
    assert person.protected_number == 2  # Witness 2
    services.entity_update(
        access=case_access(investigator, person.case), entity=person, role=Entity.Role.SUSPECT
    )
    services.entity_update(
        access=case_access(investigator, person.case), entity=person, role=Entity.Role.VICTIM
    )
    assert person.protected_number == 1  # Victim 1 again


def test_a_removed_victims_number_is_never_given_again(investigator: Any, case: Case) -> None:
    make_entity(investigator, case, role=Entity.Role.VICTIM, name="A")
    removed = make_entity(investigator, case, role=Entity.Role.VICTIM, name="B")
    services.entity_remove(access=case_access(investigator, removed.case), entity=removed)

    newcomer = make_entity(investigator, case, role=Entity.Role.VICTIM, name="C")

    assert newcomer.protected_number == 3


def test_the_demo_bulk_writer_numbers_protected_entities_as_the_services_do(
    investigator: Any, case: Case
) -> None:
    make_entity(investigator, case, role=Entity.Role.VICTIM, name="Already here")
    plan = demo.ContentPlan()
    plan.add(demo.EntityPlan(Entity.Kind.PERSON, {"role": Entity.Role.VICTIM, "name": "V"}))
    plan.add(demo.EntityPlan(Entity.Kind.PERSON, {"role": Entity.Role.WITNESS, "name": "W"}))
    plan.add(demo.EntityPlan(Entity.Kind.PERSON, {"role": Entity.Role.SUSPECT, "name": "S"}))

    demo.bulk_write_content([(case, investigator, plan)])

    numbers = dict(Entity.objects.filter(case=case).values_list("name", "protected_number"))
    assert numbers == {"Already here": 1, "V": 2, "W": 1, "S": None}


def test_the_data_migration_numbers_protected_entities_recorded_before_pseudonyms(
    investigator: Any, case: Case
) -> None:
    numbered = make_entity(investigator, case, role=Entity.Role.VICTIM, name="Numbered")
    first = make_entity(investigator, case, role=Entity.Role.VICTIM, name="First")
    second = make_entity(investigator, case, role=Entity.Role.VICTIM, name="Second")
    witness = make_entity(investigator, case, role=Entity.Role.WITNESS, name="Witness")
    old = [first.pk, second.pk, witness.pk]
    Entity.objects.filter(pk__in=old).update(protected_number=None)
    Entity.history.filter(id__in=old).update(protected_number=None)
    migration = importlib.import_module("cases.migrations.0004_protected_numbers")

    migration.number_protected_entities(django_apps, None)

    numbers = dict(Entity.objects.filter(case=case).values_list("name", "protected_number"))
    assert numbers == {"Numbered": 1, "First": 2, "Second": 3, "Witness": 1}
    assert numbered.protected_number == 1
    assert list(Entity.history.filter(id=second.pk).values_list("protected_number", flat=True)) == [
        3
    ]


# --- pages ---------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["analyst", "viewer", "contributor"])
def test_members_without_the_right_see_no_protected_value_on_any_page(
    who: str, world: dict[str, Any], case: Case, request: pytest.FixtureRequest
) -> None:
    client = client_for(request.getfixturevalue(who))

    for url in read_pages(case, world):
        response = client.get(url)
        assert response.status_code == 200, url
        assert leaked(response.content.decode()) == [], url


def test_the_owners_investigator_sees_every_protected_value(
    world: dict[str, Any], case: Case, investigator: Any
) -> None:
    client = client_for(investigator)
    body = "".join(client.get(url).content.decode() for url in read_pages(case, world))
    download = client.get(
        case_url("evidence_download", case, evidence=world["protected_file"].uuid)
    )

    assert set(leaked(body)) == set(MARKERS)
    assert download.status_code == 200
    assert download.getvalue() == b"%PDF statement"  # joins the streamed file


def test_a_share_with_protected_identities_shows_them_to_investigators_only(
    world: dict[str, Any], case: Case, gt_police: Agency
) -> None:
    grant(case, gt_police, "view_case", "view_protected")
    investigator = make_member(gt_police, "investigator", username="inv2.gt")
    analyst = make_member(gt_police, "analyst", username="ana.gt")
    url = case_url("entity", case, entity=world["victim"].uuid)

    assert NEW_VICTIM_NAME in client_for(investigator).get(url).content.decode()
    assert leaked(client_for(analyst).get(url).content.decode()) == []


def test_the_case_page_shows_pseudonyms_with_a_protected_badge(
    world: dict[str, Any], case: Case, analyst: Any
) -> None:
    body = client_for(analyst).get(case_url("detail", case)).content.decode()

    assert f"Victim 1 of {case.reference}" in body
    assert f"Phone number of Victim 1 of {case.reference}" in body
    assert f"Witness 1 of {case.reference}" in body
    assert SUSPECT_NAME in body
    assert "Protected evidence file 1" in body
    assert OPEN_EVIDENCE in body
    assert ">protected<" in body


def test_a_protected_entity_page_shows_only_the_pseudonym_role_and_kind(
    world: dict[str, Any], case: Case, analyst: Any
) -> None:
    response = client_for(analyst).get(case_url("entity", case, entity=world["victim"].uuid))
    body = response.content.decode()

    assert f"Victim 1 of {case.reference}" in body
    assert "Victim" in body and "Person" in body
    assert "phone:" not in body and "name:" not in body  # no match keys
    assert response.context["protected_page"] is True


def test_the_history_hides_the_old_and_new_name_of_an_edited_victim(
    world: dict[str, Any], case: Case, analyst: Any, investigator: Any
) -> None:
    url = case_url("history", case) + "?object=entity"

    hidden = client_for(analyst).get(url)
    shown = client_for(investigator).get(url).content.decode()

    changes = [
        change
        for event in hidden.context["page_obj"]
        for change in event.changes
        if event.label == f"Victim 1 of {case.reference}"
    ]
    assert [(c.old, c.new) for c in changes] == [(protection.HIDDEN_VALUE,) * 2]
    assert VICTIM_NAME in shown and NEW_VICTIM_NAME in shown


def test_the_history_names_protected_evidence_by_pseudonym(
    world: dict[str, Any], case: Case, viewer: Any
) -> None:
    body = client_for(viewer).get(case_url("history", case) + "?object=evidence").content.decode()

    assert "Protected evidence file 1" in body
    assert OPEN_EVIDENCE in body


def test_protected_evidence_cannot_be_downloaded_without_the_right(
    world: dict[str, Any], case: Case, analyst: Any, viewer: Any
) -> None:
    protected_url = case_url("evidence_download", case, evidence=world["protected_file"].uuid)
    open_url = case_url("evidence_download", case, evidence=world["open_file"].uuid)

    for user in (analyst, viewer):
        client = client_for(user)
        assert client.get(protected_url).status_code == 404
        assert client.get(open_url).status_code == 200
    assert world["protected_file"].custody.filter(action="downloaded").count() == 0


def test_the_protected_evidence_page_offers_no_download(
    world: dict[str, Any], case: Case, analyst: Any
) -> None:
    evidence = world["protected_file"]
    body = client_for(analyst).get(case_url("evidence", case, evidence=evidence.uuid))

    assert case_url("evidence_download", case, evidence=evidence.uuid) not in body.content.decode()
    assert "Protected evidence file 1" in body.content.decode()


def test_form_choices_name_protected_entities_by_pseudonym(
    world: dict[str, Any], case: Case, contributor: Any
) -> None:
    client = client_for(contributor)
    pages = [
        case_url("relationship_add", case),
        case_url("movement_add", case),
        case_url("entity_add", case, kind=Entity.Kind.PHONE),
        case_url("entity_edit", case, entity=world["suspect"].uuid),
    ]

    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert leaked(response.content.decode()) == [], url
    relationship_form = client.get(case_url("relationship_add", case)).content.decode()
    assert f"Victim 1 of {case.reference}" in relationship_form


def test_a_contributor_without_the_right_may_not_edit_or_remove_a_protected_entity(
    world: dict[str, Any], case: Case, contributor: Any
) -> None:
    client = client_for(contributor)

    for key in ("victim", "phone", "safe_house"):
        entity = world[key]
        for name in ("entity_edit", "entity_remove"):
            url = case_url(name, case, entity=entity.uuid)
            assert client.get(url).status_code == 403, (key, name)
            assert client.post(url, {"name": "Overwritten"}).status_code == 403, (key, name)
    assert Entity.objects.get(pk=world["victim"].pk).name == NEW_VICTIM_NAME


def test_linking_masked_entities_stores_the_real_ones(
    world: dict[str, Any], case: Case, contributor: Any, investigator: Any
) -> None:
    response = client_for(contributor).post(
        case_url("relationship_add", case),
        {
            "source": world["witness"].uuid,
            "target": world["suspect"].uuid,
            "kind": "communicates_with",
            "source_reliability": "X",
            "information_assessment": "4",
        },
    )

    assert response.status_code == 302
    assert Entity.objects.get(pk=world["witness"].pk).name == "Testigo Marcador Omega"
    rel = world["witness"].outgoing.get()
    assert rel.target_id == world["suspect"].pk


def test_success_messages_name_no_protected_person(case: Case, contributor: Any) -> None:
    client = client_for(contributor)

    response = client.post(
        case_url("entity_add", case, kind=Entity.Kind.PERSON),
        {"role": Entity.Role.INFORMANT, "name": "Informante Marcador"},
    )

    assert response.status_code == 302
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert messages and not any("Informante" in m for m in messages)
    detail = client.get(case_url("detail", case)).content.decode()
    assert "Informante Marcador" not in detail
    assert f"Informant 1 of {case.reference}" in detail


def test_the_evidence_form_protects_files_unless_unticked(
    case: Case, investigator: Any, media: Path
) -> None:
    client = client_for(investigator)
    url = case_url("evidence_add", case)

    form = client.get(url).content.decode()
    client.post(url, {"file": SimpleUploadedFile("a.txt", b"a"), "protected": "on"})
    client.post(url, {"file": SimpleUploadedFile("b.txt", b"b")})

    checkbox = re.search(r'<input[^>]*name="protected"[^>]*>', form)
    assert checkbox is not None and " checked" in checkbox.group()
    stored = dict(Evidence.objects.filter(case=case).values_list("original_name", "protected"))
    assert stored == {"a.txt": True, "b.txt": False}


def test_the_note_form_warns_against_writing_protected_names(case: Case, investigator: Any) -> None:
    body = client_for(investigator).get(case_url("note_add", case)).content.decode()

    assert "Do not write the names of victims, witnesses or informants in notes" in body


# --- query counts --------------------------------------------------------------------------


def _queries(client: Client, url: str, django_assert_max_num_queries: Any) -> int:
    with django_assert_max_num_queries(1000) as context:
        assert client.get(url).status_code == 200
    return len(context.captured_queries)


def test_masked_pages_cost_the_same_queries_with_many_protected_entities(
    world: dict[str, Any],
    case: Case,
    investigator: Any,
    analyst: Any,
    django_assert_max_num_queries: Any,
) -> None:
    client = client_for(analyst)
    urls = [
        case_url("detail", case),
        case_url("timeline", case),
        case_url("history", case),
        case_url("entity", case, entity=world["victim"].uuid),
        case_url("entity", case, entity=world["suspect"].uuid),
        case_url("evidence", case, evidence=world["protected_file"].uuid),
    ]
    before = [_queries(client, url, django_assert_max_num_queries) for url in urls]
    for number in range(8):
        victim = make_entity(investigator, case, role=Entity.Role.VICTIM, name=f"V{number}")
        make_entity(
            investigator,
            case,
            Entity.Kind.PHONE,
            identifier=f"+507 6123 45{number:02d}",
            holder=victim,
        )
        services.relationship_add(
            access=case_access(investigator, case),
            source=world["suspect"],
            target=victim,
            kind="recruits",
        )
        services.movement_add(
            access=case_access(investigator, case),
            origin=world["safe_house"],
            destination=world["camp"],
            moved_on=datetime.date(2026, 2, 2),
            means="car",
            people_count=1,
            facilitators=[victim],
        )
        services.evidence_add(
            access=case_access(investigator, case), upload=SimpleUploadedFile(f"{number}.txt", b"x")
        )

    after = [_queries(client, url, django_assert_max_num_queries) for url in urls]

    assert after == before
