"""The export of a case as JSON: what it holds, what it masks, who may take it under the
case's handling code (TLP 2.0), and what the access log says of it.

The world: Panama's border police own a case with a victim (name, alias, birth date,
description), her phone, a safe house recorded as hers, a suspect who recruits her, a movement
from the safe house that both facilitate, a note, and a protected and an open evidence file.
Costa Rica's judicial police get it shared at the view level, without protected identities.
"""

import datetime
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from casebook.models import AccessLog, Agency, Country
from cases import services
from cases.models import Case, CaseShare, Entity
from cases.selectors import case_access
from tests.conftest import client_for
from tests.factories import make_case, make_entity, make_member

Code = Case.HandlingCode

VICTIM_NAME = "Exportada Victima Kappa"
VICTIM_ALIAS = "Kappita"
VICTIM_BORN = datetime.date(1958, 9, 23)
VICTIM_DESCRIPTION = "Descripcion Kappa Privada"
VICTIM_PHONE_DIGITS = "65117733"
SAFE_HOUSE = "Casa Kappa Segura"
SAFE_HOUSE_LATITUDE = "8.765432"
PROTECTED_FILE = "kappa-declaracion.txt"
PROTECTED_FILE_BODY = b"Declaracion de Kappa"
# Everything above: never in the export of someone who may not see protected identities.
PROTECTED_VALUES = (
    VICTIM_NAME,
    VICTIM_ALIAS,
    VICTIM_BORN.isoformat(),
    VICTIM_DESCRIPTION,
    VICTIM_PHONE_DIGITS,
    SAFE_HOUSE,
    SAFE_HOUSE_LATITUDE,
    PROTECTED_FILE,
)
SUSPECT_NAME = "Sospechoso Kappa Visible"
NOTE_BODY = "Reunion en Necocli con el transportista"
OPEN_FILE = "ruta-kappa.png"

CASE_KEYS = {
    "uuid",
    "reference",
    "title",
    "kind",
    "status",
    "handling_code",
    "summary",
    "opened_on",
    "closed_on",
    "created_at",
    "updated_at",
    "lead_officer",
    "owner_agency",
    "countries",
}
ENTITY_KEYS = {
    "uuid",
    "kind",
    "role",
    "subtype",
    "label",
    "name",
    "aliases",
    "birth_date",
    "nationality",
    "identifier",
    "identifier_country",
    "holder",
    "latitude",
    "longitude",
    "description",
    "protected",
    "masked",
}
RELATIONSHIP_KEYS = {
    "uuid",
    "source",
    "target",
    "kind",
    "started_on",
    "ended_on",
    "source_reliability",
    "information_assessment",
    "grading",
    "evidence_note",
    "masked",
}
MOVEMENT_KEYS = {
    "uuid",
    "origin",
    "destination",
    "moved_on",
    "means",
    "people_count",
    "facilitators",
    "description",
    "masked",
}
EVIDENCE_KEYS = {
    "uuid",
    "name",
    "size",
    "sha256",
    "content_type",
    "description",
    "protected",
    "masked",
    "uploaded_by",
    "uploaded_at",
}


def export_url(case: Case) -> str:
    return reverse("cases:export", kwargs={"case": case.uuid})


def detail_url(case: Case) -> str:
    return reverse("cases:detail", kwargs={"case": case.uuid})


def upload(name: str, body: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, body, content_type="text/plain")


def fill(user: Any, case: Case) -> dict[str, Any]:
    """The records of the module docstring, in ``case``."""
    victim = make_entity(
        user,
        case,
        role=Entity.Role.VICTIM,
        name=VICTIM_NAME,
        aliases=VICTIM_ALIAS,
        birth_date=VICTIM_BORN,
        nationality="VE",
        description=VICTIM_DESCRIPTION,
    )
    phone = make_entity(
        user,
        case,
        Entity.Kind.PHONE,
        role=Entity.Role.OTHER,
        identifier="+507 6511 7733",
        identifier_country="PA",
        holder=victim,
    )
    safe_house = make_entity(
        user,
        case,
        Entity.Kind.LOCATION,
        role=Entity.Role.VICTIM,
        name=SAFE_HOUSE,
        subtype="safe_house",
        latitude=Decimal(SAFE_HOUSE_LATITUDE),
        longitude=Decimal("-77.123456"),
    )
    camp = make_entity(user, case, Entity.Kind.LOCATION, name="Bajo Chiquito")
    suspect = make_entity(user, case, name=SUSPECT_NAME)
    relationship = services.relationship_add(
        access=case_access(user, case),
        source=suspect,
        target=victim,
        kind="recruits",
        source_reliability="B",
        information_assessment="2",
    )
    movement = services.movement_add(
        access=case_access(user, case),
        origin=safe_house,
        destination=camp,
        moved_on=datetime.date(2026, 2, 1),
        means="boat",
        people_count=7,
        facilitators=[suspect, victim],
    )
    services.note_add(access=case_access(user, case), body=NOTE_BODY)
    services.evidence_add(
        access=case_access(user, case), upload=upload(PROTECTED_FILE, PROTECTED_FILE_BODY)
    )
    services.evidence_add(
        access=case_access(user, case), upload=upload(OPEN_FILE, b"route"), protected=False
    )
    return {
        "victim": victim,
        "phone": phone,
        "safe_house": safe_house,
        "suspect": suspect,
        "relationship": relationship,
        "movement": movement,
    }


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def records(investigator: Any, case: Case, media: Path) -> dict[str, Any]:
    return fill(investigator, case)


@pytest.fixture
def cr_viewer(cr_police: Agency) -> Any:
    """Costa Rica's investigator (a role that may see protected identities, where shared)."""
    return make_member(cr_police, "investigator", username="inv.cr.export")


def share_with(case: Case, agency: Agency, supervisor: Any, **values: Any) -> CaseShare:
    values.setdefault("level", CaseShare.Level.VIEW)
    values.setdefault("purpose", "Coordination of the Darién investigation")
    return services.case_share(access=case_access(supervisor, case), agency=agency, **values)


def exported(user: Any, case: Case) -> dict[str, Any]:
    response = client_for(user).get(export_url(case))
    assert response.status_code == 200, response.status_code
    document: dict[str, Any] = json.loads(response.content.decode("utf-8"))
    return document


def leaked(text: str) -> list[str]:
    # Phone numbers are printed with or without separators: compare digits with digits too.
    digits = re.sub(r"\D", "", text)
    return [
        value
        for value in PROTECTED_VALUES
        if value in text or (value.isdigit() and value in digits)
    ]


def by_uuid(items: list[dict[str, Any]], obj: Any) -> dict[str, Any]:
    return next(item for item in items if item["uuid"] == str(obj.uuid))


# --- the file ---------------------------------------------------------------------------------


def test_the_export_is_a_json_attachment_named_after_the_reference(
    investigator: Any, case: Case, records: dict[str, Any]
) -> None:
    response = client_for(investigator).get(export_url(case))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="{case.reference}.json"'
    assert "no-store" in response["Cache-Control"]
    document = json.loads(response.content.decode("utf-8"))
    assert set(document) == {
        "header",
        "case",
        "entities",
        "relationships",
        "movements",
        "notes",
        "evidence",
    }


def test_the_header_names_the_label_its_meaning_who_exported_and_when(
    investigator: Any, case: Case, pa_police: Agency, records: dict[str, Any]
) -> None:
    before = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    header = exported(investigator, case)["header"]
    assert header["format"] == "casebook.case-export"
    assert header["version"] == 1
    assert header["tlp"] == "TLP:AMBER"
    assert "need-to-know" in header["tlp_meaning"]
    assert header["case_reference"] == case.reference
    assert header["exported_by"]["username"] == investigator.username
    assert header["exported_by"]["agency"]["name"] == pa_police.name
    assert header["exported_by"]["agency"]["country"] == "PA"
    assert header["exported_at"].endswith("Z")
    at = datetime.datetime.fromisoformat(header["exported_at"])
    assert before <= at <= datetime.datetime.now(datetime.UTC)
    assert header["protected_identities_masked"] is False


def test_the_case_part_holds_the_core_fields_countries_and_owner(
    investigator: Any, pa_police: Agency, media: Path
) -> None:
    countries = list(Country.objects.filter(code__in=["PA", "CO"]).order_by("name"))
    case = make_case(investigator, summary="Ruta por el Darién", countries=countries)
    part = exported(investigator, case)["case"]
    assert set(part) == CASE_KEYS
    assert part["reference"] == case.reference
    assert part["title"] == case.title
    assert part["kind"] == Case.Kind.SMUGGLING
    assert part["status"] == Case.Status.OPEN
    assert part["handling_code"] == Code.AMBER
    assert part["summary"] == "Ruta por el Darién"
    assert part["opened_on"] == "2026-03-01"
    assert part["closed_on"] is None
    assert part["owner_agency"]["name"] == pa_police.name
    assert part["owner_agency"]["acronym"] == "SENAFRONT"
    assert part["owner_agency"]["country"] == "PA"
    assert part["countries"] == [{"code": c.code, "name": c.name} for c in countries]


def test_the_owners_investigator_exports_every_value(
    investigator: Any, case: Case, records: dict[str, Any]
) -> None:
    response = client_for(investigator).get(export_url(case))
    text = response.content.decode("utf-8")
    assert sorted(leaked(text)) == sorted(PROTECTED_VALUES)
    document = json.loads(text)
    victim = by_uuid(document["entities"], records["victim"])
    assert victim["name"] == VICTIM_NAME
    assert victim["aliases"] == [VICTIM_ALIAS]
    assert victim["birth_date"] == VICTIM_BORN.isoformat()
    assert victim["nationality"] == "VE"
    assert victim["protected"] is True
    assert victim["masked"] is False
    phone = by_uuid(document["entities"], records["phone"])
    assert phone["holder"] == str(records["victim"].uuid)
    assert VICTIM_PHONE_DIGITS in re.sub(r"\D", "", phone["identifier"])
    assert phone["identifier_country"] == "PA"
    safe_house = by_uuid(document["entities"], records["safe_house"])
    assert safe_house["latitude"] == float(SAFE_HOUSE_LATITUDE)
    assert safe_house["longitude"] == -77.123456
    assert safe_house["subtype"] == "safe_house"


def test_relationships_carry_their_ends_and_the_4x4_grading(
    investigator: Any, case: Case, records: dict[str, Any]
) -> None:
    document = exported(investigator, case)
    (relationship,) = document["relationships"]
    assert relationship["uuid"] == str(records["relationship"].uuid)
    assert relationship["source"] == str(records["suspect"].uuid)
    assert relationship["target"] == str(records["victim"].uuid)
    assert relationship["kind"] == "recruits"
    assert relationship["source_reliability"] == "B"
    assert relationship["information_assessment"] == "2"
    assert relationship["grading"] == "B2"


def test_movements_carry_their_places_and_facilitator_uuids(
    investigator: Any, case: Case, records: dict[str, Any]
) -> None:
    document = exported(investigator, case)
    (movement,) = document["movements"]
    assert movement["origin"] == str(records["safe_house"].uuid)
    assert movement["moved_on"] == "2026-02-01"
    assert movement["means"] == "boat"
    assert movement["people_count"] == 7
    # In the order of the reader's entities (selectors.entity_ordering), as everywhere.
    facilitators = {str(records["suspect"].uuid), str(records["victim"].uuid)}
    in_entity_order = [e["uuid"] for e in document["entities"] if e["uuid"] in facilitators]
    assert movement["facilitators"] == in_entity_order


def test_notes_and_evidence_metadata_are_exported_without_file_bytes(
    investigator: Any, case: Case, records: dict[str, Any]
) -> None:
    response = client_for(investigator).get(export_url(case))
    text = response.content.decode("utf-8")
    assert PROTECTED_FILE_BODY.decode() not in text
    document = json.loads(text)
    (note,) = document["notes"]
    assert note["body"] == NOTE_BODY
    assert note["author"] == investigator.username
    files = {item["name"]: item for item in document["evidence"]}
    assert set(files) == {PROTECTED_FILE, OPEN_FILE}
    protected = files[PROTECTED_FILE]
    assert protected["size"] == len(PROTECTED_FILE_BODY)
    assert len(protected["sha256"]) == 64
    assert protected["content_type"] == "text/plain"
    assert protected["uploaded_by"] == investigator.username
    assert protected["uploaded_at"].endswith("Z")
    assert protected["protected"] is True


# --- masking ------------------------------------------------------------------------------------


def test_the_owners_analyst_exports_pseudonyms_and_no_protected_value(
    analyst: Any, case: Case, records: dict[str, Any]
) -> None:
    response = client_for(analyst).get(export_url(case))
    text = response.content.decode("utf-8")
    assert leaked(text) == []
    document = json.loads(text)
    assert document["header"]["protected_identities_masked"] is True
    victim = by_uuid(document["entities"], records["victim"])
    assert victim["name"] == f"Victim 1 of {case.reference}"
    assert victim["masked"] is True
    assert victim["aliases"] == [] and victim["birth_date"] is None
    phone = by_uuid(document["entities"], records["phone"])
    assert phone["identifier"] == ""
    assert phone["name"] == f"Phone number of Victim 1 of {case.reference}"
    # What is not protected is exported as it is.
    assert by_uuid(document["entities"], records["suspect"])["name"] == SUSPECT_NAME
    assert OPEN_FILE in {item["name"] for item in document["evidence"]}
    assert "Protected evidence file 1" in {item["name"] for item in document["evidence"]}


def test_a_view_share_without_protected_identities_exports_no_protected_value(
    case: Case, records: dict[str, Any], supervisor: Any, cr_police: Agency, cr_viewer: Any
) -> None:
    share_with(case, cr_police, supervisor, include_protected=False)
    response = client_for(cr_viewer).get(export_url(case))
    assert response.status_code == 200
    text = response.content.decode("utf-8")
    assert leaked(text) == []
    assert SUSPECT_NAME in text and NOTE_BODY in text


def test_a_share_with_protected_identities_exports_them_to_its_investigator(
    case: Case, records: dict[str, Any], supervisor: Any, cr_police: Agency, cr_viewer: Any
) -> None:
    share_with(case, cr_police, supervisor, include_protected=True)
    text = client_for(cr_viewer).get(export_url(case)).content.decode("utf-8")
    assert VICTIM_NAME in text and SAFE_HOUSE in text


def test_masked_and_unmasked_records_have_the_same_keys(
    investigator: Any, analyst: Any, case: Case, records: dict[str, Any]
) -> None:
    for user in (investigator, analyst):
        document = exported(user, case)
        assert set(document["case"]) == CASE_KEYS
        assert all(set(item) == ENTITY_KEYS for item in document["entities"])
        assert all(set(item) == RELATIONSHIP_KEYS for item in document["relationships"])
        assert all(set(item) == MOVEMENT_KEYS for item in document["movements"])
        assert all(set(item) == EVIDENCE_KEYS for item in document["evidence"])
    masked = by_uuid(exported(analyst, case)["entities"], records["victim"])
    plain = by_uuid(exported(investigator, case)["entities"], records["victim"])
    assert list(masked) == list(plain)


# --- who may export: TLP 2.0 -----------------------------------------------------------------

# The table, "export by recipients", written out here, not imported.
RECIPIENT_MAY_EXPORT: dict[str, bool] = {
    Code.CLEAR: True,
    Code.GREEN: True,
    Code.AMBER: True,
    # "Within their own agency": the download goes to the member, in their agency.
    Code.AMBER_STRICT: True,
    Code.RED: False,
}


@pytest.mark.parametrize("code", list(RECIPIENT_MAY_EXPORT))
def test_the_owner_agency_always_exports(code: str, investigator: Any, analyst: Any) -> None:
    case = make_case(investigator, handling_code=code)
    for user in (investigator, analyst):
        header = exported(user, case)["header"]
        assert header["tlp"] == f"TLP:{code.upper()}"


@pytest.mark.parametrize("code", list(RECIPIENT_MAY_EXPORT))
def test_a_recipient_exports_as_the_handling_code_allows(
    code: str, investigator: Any, supervisor: Any, cr_police: Agency, cr_viewer: Any
) -> None:
    case = make_case(investigator, handling_code=code)
    share_with(case, cr_police, supervisor)
    response = client_for(cr_viewer).get(export_url(case))
    if RECIPIENT_MAY_EXPORT[code]:
        assert response.status_code == 200
        header = json.loads(response.content)["header"]
        assert header["exported_by"]["agency"]["name"] == cr_police.name
    else:
        assert response.status_code == 403


def test_an_amber_strict_export_says_it_stays_in_the_recipients_own_agency(
    investigator: Any, supervisor: Any, cr_police: Agency, cr_viewer: Any
) -> None:
    case = make_case(investigator, handling_code=Code.AMBER_STRICT)
    share_with(case, cr_police, supervisor)
    header = exported(cr_viewer, case)["header"]
    assert header["tlp"] == "TLP:AMBER+STRICT"
    assert "only within their own organisation" in header["tlp_meaning"]
    assert header["exported_by"]["agency"]["acronym"] == cr_police.acronym


def test_a_red_recipient_gets_403_naming_the_code_and_the_refusal_is_logged(
    investigator: Any, supervisor: Any, cr_police: Agency, cr_viewer: Any
) -> None:
    case = make_case(investigator, handling_code=Code.RED)
    share_with(case, cr_police, supervisor)
    response = client_for(cr_viewer).get(export_url(case))
    assert response.status_code == 403
    message = "Under TLP:RED the case may not be exported by agencies it is shared with."
    assert message in response.content.decode()
    refusal = AccessLog.objects.get(user=cr_viewer, action=AccessLog.Action.REFUSED)
    assert refusal.attempted == "export"
    assert refusal.case_id == case.pk
    assert refusal.detail == message
    assert not AccessLog.objects.filter(action=AccessLog.Action.EXPORT).exists()


def test_an_outsider_gets_404_and_nothing_is_logged_as_exported(
    outsider: Any, case: Case, records: dict[str, Any]
) -> None:
    response = client_for(outsider).get(export_url(case))
    assert response.status_code == 404
    assert SUSPECT_NAME not in response.content.decode()
    assert AccessLog.objects.filter(user=outsider, action=AccessLog.Action.REFUSED).exists()
    assert not AccessLog.objects.filter(action=AccessLog.Action.EXPORT).exists()


def test_an_unknown_case_is_404(investigator: Any) -> None:
    url = reverse("cases:export", kwargs={"case": "00000000-0000-4000-8000-000000000000"})
    assert client_for(investigator).get(url).status_code == 404


def test_an_anonymous_visitor_is_sent_to_sign_in(case: Case, client: Any) -> None:
    response = client.get(export_url(case))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_export_takes_no_post(investigator: Any, case: Case) -> None:
    assert client_for(investigator).post(export_url(case)).status_code == 405


def test_every_export_is_written_to_the_access_log(
    analyst: Any, case: Case, pa_police: Agency
) -> None:
    client = client_for(analyst)
    client.get(export_url(case))
    client.get(export_url(case))
    rows = AccessLog.objects.filter(action=AccessLog.Action.EXPORT).order_by("id")
    assert len(rows) == 2
    for row in rows:
        assert row.user_id == analyst.pk
        assert row.agency_id == pa_police.pk
        assert row.case_id == case.pk
        assert row.case_reference == case.reference
        assert row.object_type == "case"
        assert row.object_uuid == case.uuid
        assert row.path == export_url(case)


# --- the case page --------------------------------------------------------------------------


def test_the_case_page_offers_the_export_to_those_who_may(
    investigator: Any, supervisor: Any, cr_police: Agency, cr_viewer: Any
) -> None:
    green = make_case(investigator, handling_code=Code.GREEN)
    red = make_case(investigator, handling_code=Code.RED)
    for case in (green, red):
        share_with(case, cr_police, supervisor)
    assert export_url(red) in client_for(investigator).get(detail_url(red)).content.decode()
    assert export_url(green) in client_for(cr_viewer).get(detail_url(green)).content.decode()
    page = client_for(cr_viewer).get(detail_url(red))
    assert page.status_code == 200
    assert export_url(red) not in page.content.decode()
    assert "Export (JSON)" not in page.content.decode()


# --- cost --------------------------------------------------------------------------------------


def count_queries(user: Any, case: Case) -> int:
    client = client_for(user)
    client.get(export_url(case))  # the session and the member, read once
    with CaptureQueriesContext(connection) as queries:
        response = client.get(export_url(case))
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("persona", ["investigator", "analyst"])
def test_the_export_costs_the_same_queries_whatever_the_size_of_the_case(
    persona: str,
    request: pytest.FixtureRequest,
    investigator: Any,
    media: Path,
    django_assert_max_num_queries: Any,
) -> None:
    user = request.getfixturevalue(persona)
    small = make_case(investigator)
    fill(investigator, small)
    large = make_case(investigator)
    for _ in range(6):
        fill(investigator, large)
    assert count_queries(user, large) == count_queries(user, small)
    client = client_for(user)
    with django_assert_max_num_queries(16):
        assert client.get(export_url(large)).status_code == 200
