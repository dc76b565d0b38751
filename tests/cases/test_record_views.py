"""Pages that add relationships, movements, notes and evidence to a case."""

import datetime
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import InMemoryUploadedFile, SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from casebook.celery import app as celery_app
from cases import services, tasks
from cases.forms.records import EvidenceUploadLimitHandler
from cases.models import (
    Case,
    CustodyEntry,
    Entity,
    Evidence,
    Movement,
    MovementFacilitator,
    Note,
    Relationship,
)
from cases.selectors import case_access
from tests.conftest import client_for
from tests.factories import make_case, make_entity, make_member

CONTENT = b"Statement of witness 3, taken at Lajas Blancas on 2 March 2026.\n"


# --- fixtures and helpers ------------------------------------------------------------------


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def eager_tasks() -> Iterator[None]:
    # CI may configure a real broker; these tests want the task run in-process.
    was_eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = was_eager


@pytest.fixture
def person(investigator: Any, case: Case) -> Entity:
    return make_entity(investigator, case, name="Carlos Mena")


@pytest.fixture
def phone(investigator: Any, case: Case) -> Entity:
    return make_entity(investigator, case, Entity.Kind.PHONE)


@pytest.fixture
def camp(investigator: Any, case: Case) -> Entity:
    return make_entity(investigator, case, Entity.Kind.LOCATION, name="Bajo Chiquito")


@pytest.fixture
def station(investigator: Any, case: Case) -> Entity:
    return make_entity(investigator, case, Entity.Kind.LOCATION, name="Lajas Blancas")


@pytest.fixture
def other_case(investigator: Any) -> Case:
    return make_case(investigator, title="Recruitment ring in Colón")


def url(name: str, case: Case, **kwargs: Any) -> str:
    return reverse(f"cases:{name}", kwargs={"case": case.uuid, **kwargs})


def stored_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]


def upload(
    client: Client,
    case: Case,
    content: bytes = CONTENT,
    name: str = "statement.pdf",
    **extra: Any,
) -> Any:
    file = SimpleUploadedFile(name, content, content_type="application/pdf")
    return client.post(
        url("evidence_add", case), {"file": file, "description": "Witness statement"}, **extra
    )


def add_evidence(user: Any, case: Case, content: bytes = CONTENT, name: str = "a.pdf") -> Evidence:
    return services.evidence_add(
        access=case_access(user, case),
        upload=SimpleUploadedFile(name, content),
        description="",
        remote_addr="192.0.2.1",
    )


def body(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def relationship_data(source: Entity, target: Entity, **values: Any) -> dict[str, Any]:
    data = {
        "source": str(source.uuid),
        "target": str(target.uuid),
        "kind": Relationship.Kind.COMMUNICATES,
        "started_on": "2026-02-01",
        "ended_on": "2026-03-01",
        "evidence_note": "Call records from the carrier",
        "source_reliability": "B",
        "information_assessment": "2",
    }
    data.update(values)
    return data


def movement_data(origin: Entity, destination: Entity, **values: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "origin": str(origin.uuid),
        "destination": str(destination.uuid),
        "moved_on": "2026-03-02",
        "means": Movement.Means.BOAT,
        "people_count": "37",
        "description": "Crossed the Tuquesa river at night",
    }
    data.update(values)
    return data


# --- relationships -------------------------------------------------------------------------


def test_investigator_adds_a_relationship_that_appears_on_the_case_page(
    investigator: Any, case: Case, person: Entity, phone: Entity
) -> None:
    client = client_for(investigator)
    response = client.post(url("relationship_add", case), relationship_data(person, phone))
    assert response.status_code == 302
    assert response["Location"] == case.get_absolute_url()
    relationship = Relationship.objects.get()
    assert (relationship.source, relationship.target) == (person, phone)
    assert relationship.grading == "B2"
    assert relationship.started_on == datetime.date(2026, 2, 1)
    assert relationship.created_by == investigator
    record = relationship.history.get()
    assert (record.history_type, record.history_user) == ("+", investigator)
    page = client.get(case.get_absolute_url()).content.decode()
    assert "communicates with" in page
    assert "Relationship added." in page


def test_relationship_form_explains_the_europol_grading(investigator: Any, case: Case) -> None:
    make_entity(investigator, case, name="Carlos Mena")
    make_entity(investigator, case, name="Luis Ortega")
    page = client_for(investigator).get(url("relationship_add", case)).content.decode()
    assert "4x4 grading used by Europol" in page
    assert "A: always reliable" in page
    assert "4: cannot be judged" in page


def test_relationship_form_preselects_the_source_from_the_query(
    investigator: Any, case: Case, person: Entity, phone: Entity
) -> None:
    response = client_for(investigator).get(
        url("relationship_add", case), {"source": str(phone.uuid)}
    )
    assert f'<option value="{phone.uuid}" selected>' in response.content.decode()


def test_relationship_form_ignores_a_malformed_source_in_the_query(
    investigator: Any, case: Case, person: Entity, phone: Entity
) -> None:
    response = client_for(investigator).get(url("relationship_add", case), {"source": "x'; --"})
    assert response.status_code == 200
    page = response.content.decode()
    assert f'value="{person.uuid}" selected' not in page
    assert f'value="{phone.uuid}" selected' not in page


def test_relationship_form_asks_for_two_entities_first(investigator: Any, case: Case) -> None:
    page = client_for(investigator).get(url("relationship_add", case)).content.decode()
    assert "Add at least two entities first." in page
    assert url("entity_add", case, kind="person") in page


def test_relationship_from_an_entity_to_itself_is_refused(
    investigator: Any, case: Case, person: Entity, phone: Entity
) -> None:
    response = client_for(investigator).post(
        url("relationship_add", case), relationship_data(person, person)
    )
    assert response.status_code == 200
    assert response.context["form"].errors["target"] == ["Choose two different entities."]
    assert not Relationship.objects.exists()


def test_relationship_ending_before_it_starts_is_refused(
    investigator: Any, case: Case, person: Entity, phone: Entity
) -> None:
    data = relationship_data(person, phone, started_on="2026-03-01", ended_on="2026-02-01")
    response = client_for(investigator).post(url("relationship_add", case), data)
    assert response.status_code == 200
    assert response.context["form"].errors["ended_on"] == ["The end date is before the start date."]
    assert "is-invalid" in response.content.decode()
    assert not Relationship.objects.exists()


def test_relationship_to_an_entity_of_another_case_is_refused(
    investigator: Any, case: Case, person: Entity, phone: Entity, other_case: Case
) -> None:
    stranger = make_entity(investigator, other_case, name="Luis Ortega")
    client = client_for(investigator)
    for value in (str(stranger.uuid), str(stranger.pk)):
        response = client.post(
            url("relationship_add", case), {**relationship_data(person, stranger), "target": value}
        )
        assert response.status_code == 200
        assert response.context["form"].errors["target"] == ["Choose an entity of this case."]
        assert "Choose an entity of this case." in response.content.decode()
    assert not Relationship.objects.exists()
    assert not Relationship.history.exists()


def test_relationship_remove_confirms_then_removes_with_history(
    investigator: Any, case: Case, person: Entity, phone: Entity
) -> None:
    relationship = services.relationship_add(
        access=case_access(investigator, case), source=person, target=phone, kind="owns"
    )
    client = client_for(investigator)
    remove_url = url("relationship_remove", case, relationship=relationship.uuid)
    page = client.get(remove_url).content.decode()
    assert "Remove this relationship?" in page
    assert "Carlos Mena" in page and "owns" in page
    assert Relationship.objects.exists()
    response = client.post(remove_url)
    assert response.status_code == 302
    assert response["Location"] == case.get_absolute_url()
    assert not Relationship.objects.exists()
    removal = Relationship.history.get(history_type="-")
    assert removal.history_user == investigator
    assert "Relationship removed." in client.get(case.get_absolute_url()).content.decode()


# --- movements -----------------------------------------------------------------------------


def test_investigator_adds_a_movement_that_appears_on_the_case_page(
    investigator: Any, case: Case, camp: Entity, station: Entity, person: Entity, phone: Entity
) -> None:
    client = client_for(investigator)
    data = movement_data(camp, station, facilitators=[str(person.uuid), str(phone.uuid)])
    response = client.post(url("movement_add", case), data)
    assert response.status_code == 302
    assert response["Location"] == case.get_absolute_url()
    movement = Movement.objects.get()
    assert (movement.origin, movement.destination) == (camp, station)
    assert movement.people_count == 37
    assert set(movement.facilitators.all()) == {person, phone}
    assert movement.history.get().history_user == investigator
    links = MovementFacilitator.history.all()
    assert links.count() == 2
    assert {record.history_user for record in links} == {investigator}
    page = client.get(case.get_absolute_url()).content.decode()
    assert "Movement added." in page
    assert "37" in page


def test_movement_form_offers_only_this_cases_places_and_non_places(
    investigator: Any,
    case: Case,
    camp: Entity,
    station: Entity,
    person: Entity,
    other_case: Case,
) -> None:
    elsewhere = make_entity(investigator, other_case, Entity.Kind.LOCATION, name="Colón port")
    form = client_for(investigator).get(url("movement_add", case)).context["form"]
    assert set(form.fields["origin"].queryset) == {camp, station}
    assert set(form.fields["facilitators"].queryset) == {person}
    assert elsewhere not in form.fields["destination"].queryset


@pytest.mark.parametrize(
    ("count", "message"),
    [
        ("0", "At least one person must have moved: enter 1 or more."),
        ("-3", "At least one person must have moved: enter 1 or more."),
        ("abc", "Enter the number of people as a whole number, for example 12."),
        ("", "This field is required."),
    ],
)
def test_movement_count_must_be_a_positive_whole_number(
    investigator: Any, case: Case, camp: Entity, station: Entity, count: str, message: str
) -> None:
    response = client_for(investigator).post(
        url("movement_add", case), movement_data(camp, station, people_count=count)
    )
    assert response.status_code == 200
    assert response.context["form"].errors["people_count"] == [message]
    assert message in response.content.decode()
    assert not Movement.objects.exists()


def test_movement_in_the_future_is_refused(
    investigator: Any, case: Case, camp: Entity, station: Entity
) -> None:
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = client_for(investigator).post(
        url("movement_add", case), movement_data(camp, station, moved_on=tomorrow.isoformat())
    )
    assert response.context["form"].errors["moved_on"] == ["A movement cannot be in the future."]
    assert not Movement.objects.exists()


def test_movement_needs_two_different_places_of_this_case(
    investigator: Any, case: Case, camp: Entity, station: Entity, person: Entity, other_case: Case
) -> None:
    elsewhere = make_entity(investigator, other_case, Entity.Kind.LOCATION, name="Colón port")
    stranger = make_entity(investigator, other_case, name="Luis Ortega")
    client = client_for(investigator)
    cases = [
        (movement_data(camp, camp), "destination"),
        (movement_data(person, station), "origin"),
        (movement_data(camp, elsewhere), "destination"),
        (movement_data(camp, station, facilitators=[str(stranger.uuid)]), "facilitators"),
    ]
    for data, field in cases:
        response = client.post(url("movement_add", case), data)
        assert response.status_code == 200
        assert response.context["form"].errors[field]
    assert not Movement.objects.exists()
    assert not MovementFacilitator.objects.exists()


def test_movement_form_asks_for_two_locations_first(
    investigator: Any, case: Case, camp: Entity
) -> None:
    response = client_for(investigator).get(url("movement_add", case))
    page = response.content.decode()
    assert "This case has 1 location: add at least two first." in page
    assert url("entity_add", case, kind="location") in page
    assert 'name="people_count"' not in page


def test_movement_remove_confirms_then_removes_with_history(
    investigator: Any, case: Case, camp: Entity, station: Entity, person: Entity
) -> None:
    movement = services.movement_add(
        access=case_access(investigator, case),
        origin=camp,
        destination=station,
        moved_on=datetime.date(2026, 3, 2),
        means=Movement.Means.FOOT,
        people_count=12,
        facilitators=[person],
    )
    client = client_for(investigator)
    remove_url = url("movement_remove", case, movement=movement.uuid)
    page = client.get(remove_url).content.decode()
    assert "Remove this movement?" in page
    assert "Bajo Chiquito" in page and "Lajas Blancas" in page and "12 people" in page
    response = client.post(remove_url)
    assert response.status_code == 302
    assert not Movement.objects.exists()
    assert not MovementFacilitator.objects.exists()
    assert Movement.history.get(history_type="-").history_user == investigator
    assert MovementFacilitator.history.get(history_type="-").history_user == investigator


# --- notes ---------------------------------------------------------------------------------


def test_investigator_adds_a_note_that_appears_on_the_case_page(
    investigator: Any, case: Case
) -> None:
    client = client_for(investigator)
    form = client.get(url("note_add", case)).context["form"]
    assert form.initial["noted_on"] == timezone.localdate()
    response = client.post(
        url("note_add", case),
        {"noted_on": "2026-03-03", "body": "  Informant confirms the boat leaves on Fridays. "},
    )
    assert response.status_code == 302
    note = Note.objects.get()
    assert note.body == "Informant confirms the boat leaves on Fridays."
    assert note.noted_on == datetime.date(2026, 3, 3)
    assert note.author == investigator
    assert note.history.get().history_user == investigator
    page = client.get(case.get_absolute_url()).content.decode()
    assert "Informant confirms the boat leaves on Fridays." in page


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"body": "   "}, "body", "Write the note: it cannot be empty."),
        ({"body": ""}, "body", "Write the note: it cannot be empty."),
        (
            {"body": "Later", "noted_on": "2999-01-01"},
            "noted_on",
            "A note cannot be dated in the future.",
        ),
        ({"body": "Bad date", "noted_on": "31/02/2026"}, "noted_on", "Enter a valid date."),
    ],
)
def test_bad_notes_are_refused(
    investigator: Any, case: Case, data: dict[str, str], field: str, message: str
) -> None:
    response = client_for(investigator).post(
        url("note_add", case), {"noted_on": "2026-03-03", **data}
    )
    assert response.status_code == 200
    assert response.context["form"].errors[field] == [message]
    assert not Note.objects.exists()


# --- who may record ------------------------------------------------------------------------


@pytest.fixture
def record_urls(investigator: Any, case: Case, camp: Entity, station: Entity) -> list[str]:
    relationship = services.relationship_add(
        access=case_access(investigator, case), source=camp, target=station, kind="other"
    )
    movement = services.movement_add(
        access=case_access(investigator, case),
        origin=camp,
        destination=station,
        moved_on=datetime.date(2026, 3, 2),
        means=Movement.Means.BUS,
        people_count=4,
    )
    return [
        url("relationship_add", case),
        url("relationship_remove", case, relationship=relationship.uuid),
        url("movement_add", case),
        url("movement_remove", case, movement=movement.uuid),
        url("note_add", case),
        url("evidence_add", case),
    ]


def test_outsider_gets_404_on_every_record_page(outsider: Any, record_urls: list[str]) -> None:
    client = client_for(outsider)
    for page in record_urls:
        assert client.get(page).status_code == 404, page
        assert client.post(page).status_code == 404, page
    assert Relationship.objects.count() == 1
    assert Movement.objects.count() == 1


@pytest.mark.parametrize("persona", ["analyst", "supervisor"])
def test_members_without_the_contributor_role_get_403(
    request: pytest.FixtureRequest, persona: str, record_urls: list[str]
) -> None:
    client = client_for(request.getfixturevalue(persona))
    for page in record_urls:
        assert client.get(page).status_code == 403, page
        assert client.post(page).status_code == 403, page
    assert Relationship.objects.count() == 1
    assert Movement.objects.count() == 1


def test_anonymous_visitors_are_sent_to_sign_in(record_urls: list[str]) -> None:
    for page in record_urls:
        response = Client().get(page)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


# --- evidence upload -----------------------------------------------------------------------


def test_upload_stores_the_file_with_its_sha256_size_and_custody(
    investigator: Any,
    case: Case,
    media: Path,
    eager_tasks: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    client = client_for(investigator)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, case, REMOTE_ADDR="198.51.100.23")
    evidence = Evidence.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("evidence", case, evidence=evidence.uuid)
    assert evidence.sha256 == hashlib.sha256(CONTENT).hexdigest()
    assert evidence.size == len(CONTENT)
    assert evidence.original_name == "statement.pdf"
    assert evidence.content_type == "application/pdf"
    assert evidence.description == "Witness statement"
    assert evidence.uploaded_by == investigator
    assert evidence.history.get().history_user == investigator
    assert [path.read_bytes() for path in stored_files(media)] == [CONTENT]
    custody = list(evidence.custody.order_by("at", "id"))
    assert [entry.action for entry in custody] == ["uploaded", "verified"]
    assert custody[0].actor == investigator
    assert custody[0].remote_addr == "198.51.100.23"
    assert "statement.pdf" in client.get(case.get_absolute_url()).content.decode()


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({}, "Choose a file to upload."),
        (
            {"file": SimpleUploadedFile("empty.txt", b"")},
            "The file is empty (0 bytes): there is nothing to keep as evidence.",
        ),
        (
            {"file": SimpleUploadedFile("big.bin", b"x" * 1025)},
            "The file is larger than the limit of 1.0\xa0KB (1,024 bytes).",
        ),
    ],
)
def test_bad_uploads_are_refused_and_nothing_is_stored(
    investigator: Any,
    case: Case,
    media: Path,
    settings: Any,
    files: dict[str, Any],
    message: str,
) -> None:
    settings.EVIDENCE_MAX_BYTES = 1024
    response = client_for(investigator).post(
        url("evidence_add", case), {"description": "x", **files}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["file"] == [message]
    assert message in response.content.decode()
    assert not Evidence.objects.exists()
    assert not CustodyEntry.objects.exists()
    assert stored_files(media) == []


def test_upload_at_exactly_the_limit_is_accepted(
    investigator: Any, case: Case, media: Path, settings: Any
) -> None:
    settings.EVIDENCE_MAX_BYTES = 1024
    response = upload(client_for(investigator), case, content=b"y" * 1024)
    assert response.status_code == 302
    assert Evidence.objects.get().size == 1024


def test_upload_form_states_the_limit(investigator: Any, case: Case, settings: Any) -> None:
    settings.EVIDENCE_MAX_BYTES = 50 * 1024 * 1024
    page = client_for(investigator).get(url("evidence_add", case)).content.decode()
    assert "Up to 50.0\xa0MB" in page
    assert 'enctype="multipart/form-data"' in page


def test_oversized_upload_is_never_kept_past_the_limit(settings: Any) -> None:
    settings.EVIDENCE_MAX_BYTES = 10
    handler = EvidenceUploadLimitHandler()
    handler.new_file("file", "big.bin", "application/octet-stream", None)
    assert handler.receive_data_chunk(b"x" * 8, 0) == b"x" * 8
    assert handler.receive_data_chunk(b"x" * 8, 8) is None
    assert handler.receive_data_chunk(b"x" * 8, 16) is None
    stand_in = handler.file_complete(24)
    assert stand_in is not None
    assert stand_in.size == 24
    assert stand_in.read() == b""


def test_small_upload_passes_through_the_limit_handler(settings: Any) -> None:
    settings.EVIDENCE_MAX_BYTES = 10
    handler = EvidenceUploadLimitHandler()
    handler.new_file("file", "small.bin", "application/octet-stream", None)
    assert handler.receive_data_chunk(b"x" * 10, 0) == b"x" * 10
    assert handler.file_complete(10) is None


def test_oversized_upload_reaches_the_form_as_an_empty_stand_in(
    investigator: Any, case: Case, media: Path, settings: Any
) -> None:
    settings.EVIDENCE_MAX_BYTES = 1024
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0  # a normal upload would go to a temporary file
    response = upload(client_for(investigator), case, content=b"z" * 5000)
    stand_in = response.context["form"].files["file"]
    assert type(stand_in) is InMemoryUploadedFile
    assert stand_in.size == 5000
    assert stored_files(media) == []


def test_upload_with_a_csrf_token_works_and_without_is_refused(
    investigator: Any, case: Case, media: Path
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(investigator)
    assert upload(client, case).status_code == 403
    assert not Evidence.objects.exists()
    assert stored_files(media) == []
    client.get(url("evidence_add", case))
    token = client.cookies["csrftoken"].value
    file = SimpleUploadedFile("statement.pdf", CONTENT)
    response = client.post(url("evidence_add", case), {"file": file, "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert Evidence.objects.count() == 1


# --- evidence detail and download ----------------------------------------------------------


def test_evidence_page_shows_the_metadata_and_the_chain_of_custody(
    investigator: Any, case: Case, media: Path
) -> None:
    evidence = add_evidence(investigator, case, name="ledger.xlsx")
    services.evidence_verify_integrity(evidence=evidence)
    page = client_for(investigator).get(url("evidence", case, evidence=evidence.uuid))
    text = page.content.decode()
    assert page.status_code == 200
    for expected in (
        "ledger.xlsx",
        evidence.content_type,
        f"{len(CONTENT)} bytes",
        hashlib.sha256(CONTENT).hexdigest(),
        investigator.get_full_name(),
        "192.0.2.1",
        "Uploaded",
        "Integrity verified",
        url("evidence_download", case, evidence=evidence.uuid),
    ):
        assert expected in text, expected


def test_evidence_page_queries_do_not_grow_with_the_custody_log(
    investigator: Any, case: Case, media: Path
) -> None:
    # Two people who may download the (protected) file, so that the log names two actors.
    colleague = make_member(investigator.member.agency, "investigator", username="inv2.pa")
    evidence = add_evidence(investigator, case)
    client = client_for(investigator)
    page = url("evidence", case, evidence=evidence.uuid)
    client.get(page)  # warm the session and permission caches

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(page).status_code == 200
        return len(queries)

    few = count()
    for n in range(19):
        services.evidence_record_download(
            access=case_access(colleague if n % 2 else investigator, evidence.case),
            evidence=evidence,
            remote_addr="192.0.2.9",
        )
    assert CustodyEntry.objects.filter(evidence=evidence).count() == 20
    assert count() == few
    assert few <= 11  # + 1 for the agency's groups (read once per request by cases.selectors)


def test_download_serves_the_file_as_an_attachment_and_records_custody(
    investigator: Any, case: Case, media: Path
) -> None:
    evidence = add_evidence(investigator, case, name="statement.pdf")
    response = client_for(investigator).get(
        url("evidence_download", case, evidence=evidence.uuid), REMOTE_ADDR="203.0.113.7"
    )
    assert response.status_code == 200
    assert body(response) == CONTENT
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"] == 'attachment; filename="statement.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    entry = evidence.custody.get(action=CustodyEntry.Action.DOWNLOADED)
    assert (entry.actor, entry.remote_addr) == (investigator, "203.0.113.7")


def test_uploaded_html_is_never_served_inline_and_odd_names_are_encoded(
    investigator: Any, case: Case, media: Path
) -> None:
    evidence = add_evidence(
        investigator, case, b"<script>alert(1)</script>", name='declaración "final".html'
    )
    response = client_for(investigator).get(url("evidence_download", case, evidence=evidence.uuid))
    assert response["Content-Type"] == "application/octet-stream"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; ")
    assert disposition == "attachment; filename*=utf-8''declaraci%C3%B3n%20%22final%22.html"


def test_analyst_may_view_and_download_evidence_and_it_is_recorded(
    investigator: Any, analyst: Any, case: Case, media: Path
) -> None:
    # Not protected: a protected file is a 404 for analysts (tests/cases/test_protection.py).
    evidence = add_evidence(investigator, case)
    Evidence.objects.filter(pk=evidence.pk).update(protected=False)
    client = client_for(analyst)
    assert client.get(url("evidence", case, evidence=evidence.uuid)).status_code == 200
    response = client.get(url("evidence_download", case, evidence=evidence.uuid))
    assert response.status_code == 200
    assert body(response) == CONTENT
    assert evidence.custody.filter(action="downloaded", actor=analyst).count() == 1
    assert upload(client, case).status_code == 403
    assert Evidence.objects.count() == 1


def test_outsider_gets_404_for_evidence_and_leaves_no_custody_trace(
    investigator: Any, outsider: Any, case: Case, media: Path
) -> None:
    evidence = add_evidence(investigator, case)
    client = client_for(outsider)
    assert client.get(url("evidence", case, evidence=evidence.uuid)).status_code == 404
    assert client.get(url("evidence_download", case, evidence=evidence.uuid)).status_code == 404
    assert not evidence.custody.filter(action="downloaded").exists()


def test_evidence_is_not_reachable_under_another_cases_address(
    investigator: Any, case: Case, other_case: Case, media: Path
) -> None:
    evidence = add_evidence(investigator, case)
    client = client_for(investigator)
    assert client.get(url("evidence", other_case, evidence=evidence.uuid)).status_code == 404
    wrong = url("evidence_download", other_case, evidence=evidence.uuid)
    assert client.get(wrong).status_code == 404


def test_download_of_a_missing_stored_file_is_a_clear_404(
    investigator: Any, case: Case, media: Path
) -> None:
    evidence = add_evidence(investigator, case)
    Path(evidence.file.path).unlink()
    response = client_for(investigator).get(url("evidence_download", case, evidence=evidence.uuid))
    assert response.status_code == 404
    assert "The stored copy of this evidence file is missing" in response.content.decode()
    assert not evidence.custody.filter(action="downloaded").exists()


def test_tampered_file_fails_the_integrity_check_and_shows_on_the_page(
    investigator: Any, case: Case, media: Path
) -> None:
    evidence = add_evidence(investigator, case)
    Path(evidence.file.path).write_bytes(CONTENT.replace(b"3", b"4"))
    assert tasks.evidence_verify(evidence.pk) == "mismatch"
    entry = evidence.custody.get(action=CustodyEntry.Action.MISMATCH)
    assert entry.detail != f"sha256={evidence.sha256} size={evidence.size}"
    page = client_for(investigator).get(url("evidence", case, evidence=evidence.uuid))
    assert "Integrity check FAILED" in page.content.decode()
    assert 'class="table-danger"' in page.content.decode()


def test_download_name_with_control_characters_does_not_break_the_header(
    investigator: Any, case: Case, media: Path
) -> None:
    evidence = add_evidence(investigator, case, name="chat\r\nSet-Cookie: x.txt")
    response = client_for(investigator).get(url("evidence_download", case, evidence=evidence.uuid))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="chat__Set-Cookie: x.txt"'
    assert "Set-Cookie" not in {key for key, _value in response.items()}
