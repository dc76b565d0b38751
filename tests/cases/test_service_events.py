"""Every service that changes a case records one change event (issue 8, section 2): the case's
version moves by one, its ``updated_at`` with it (adding a note or an entity is a change of
the case), and the event names the case, what changed and the object, in the same
transaction. Reads and refused writes record nothing."""

import datetime
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from casebook.models import Agency
from cases import selectors, services
from cases.models import Case, CaseEvent, Entity
from cases.permissions import CaseAccess
from tests.factories import make_entity

What = CaseEvent.What
LATER = datetime.timedelta(hours=2)


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def parts(investigator: User, case: Case) -> dict[str, Entity]:
    return {
        "person": make_entity(investigator, case, name="Jorge Recluta"),
        "other": make_entity(investigator, case, name="Ana Transporte"),
        "origin": make_entity(investigator, case, Entity.Kind.LOCATION, name="Capurganá"),
        "destination": make_entity(investigator, case, Entity.Kind.LOCATION, name="Metetí"),
    }


def _writes(
    investigator: User, supervisor: User, cr_police: Agency, parts: dict[str, Entity]
) -> dict[str, tuple[str, Callable[[CaseAccess, CaseAccess], Any]]]:
    """Each service, what it should record, and how to call it (with the investigator's and
    the supervisor's access to the case)."""
    person, other = parts["person"], parts["other"]
    origin, destination = parts["origin"], parts["destination"]

    def relationship(access: CaseAccess) -> Any:
        return services.relationship_add(
            access=access, source=person, target=other, kind="recruits"
        )

    def movement(access: CaseAccess) -> Any:
        return services.movement_add(
            access=access,
            origin=origin,
            destination=destination,
            moved_on=datetime.date(2026, 3, 2),
            means="foot",
            people_count=4,
        )

    def share(access: CaseAccess) -> Any:
        return services.case_share(
            access=access, agency=cr_police, level="view", purpose="Joint investigation"
        )

    return {
        "case_update": (What.CASE, lambda inv, sup: services.case_update(access=inv, title="New")),
        "entity_add": (
            What.ENTITY,
            lambda inv, sup: services.entity_add(
                access=inv, kind="person", name="Luis Guía", role="suspect"
            ),
        ),
        "entity_update": (
            What.ENTITY,
            lambda inv, sup: services.entity_update(access=inv, entity=person, aliases="El Tío"),
        ),
        "entity_remove": (
            What.ENTITY,
            lambda inv, sup: services.entity_remove(access=inv, entity=other),
        ),
        "relationship_add": (What.RELATIONSHIP, lambda inv, sup: relationship(inv)),
        "relationship_remove": (
            What.RELATIONSHIP,
            lambda inv, sup: services.relationship_remove(
                access=inv, relationship=relationship(inv)
            ),
        ),
        "movement_add": (What.MOVEMENT, lambda inv, sup: movement(inv)),
        "movement_remove": (
            What.MOVEMENT,
            lambda inv, sup: services.movement_remove(access=inv, movement=movement(inv)),
        ),
        "note_add": (What.NOTE, lambda inv, sup: services.note_add(access=inv, body="Seen.")),
        "evidence_add": (
            What.EVIDENCE,
            lambda inv, sup: services.evidence_add(
                access=inv, upload=SimpleUploadedFile("a.pdf", b"%PDF-1.4 statement")
            ),
        ),
        "case_share": (What.SHARE, lambda inv, sup: share(sup)),
        "share_revoke": (
            What.SHARE,
            lambda inv, sup: services.share_revoke(access=sup, share=share(sup)),
        ),
        "case_set_handling_code": (
            What.HANDLING_CODE,
            lambda inv, sup: services.case_set_handling_code(access=inv, code="red"),
        ),
    }


SERVICES = [
    "case_update",
    "entity_add",
    "entity_update",
    "entity_remove",
    "relationship_add",
    "relationship_remove",
    "movement_add",
    "movement_remove",
    "note_add",
    "evidence_add",
    "case_share",
    "share_revoke",
    "case_set_handling_code",
]


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_that_changes_a_case_records_its_event_and_moves_the_case(
    name: str,
    investigator: User,
    supervisor: User,
    cr_police: Agency,
    case: Case,
    parts: dict[str, Entity],
    media: Path,
) -> None:
    what, write = _writes(investigator, supervisor, cr_police, parts)[name]
    before = Case.objects.values("version", "updated_at").get(pk=case.pk)
    events_before = set(CaseEvent.objects.filter(case=case).values_list("pk", flat=True))

    with time_machine.travel(before["updated_at"] + LATER):
        write(selectors.case_access(investigator, case), selectors.case_access(supervisor, case))
        after = Case.objects.values("version", "updated_at").get(pk=case.pk)

    new = CaseEvent.objects.filter(case=case).exclude(pk__in=events_before).order_by("version")
    assert [event.what for event in new][-1] == what
    # One event per write, each moving the version by one (a write that first sets up what
    # it removes, a relationship, a movement, a share, records that too).
    assert after["version"] - before["version"] == len(new) >= 1
    assert [event.version for event in new] == list(
        range(before["version"] + 1, after["version"] + 1)
    )
    assert after["updated_at"] >= before["updated_at"] + LATER


def test_a_refused_write_records_no_event(
    investigator: User, case: Case, parts: dict[str, Entity]
) -> None:
    before = Case.objects.values_list("version", flat=True).get(pk=case.pk)
    events = CaseEvent.objects.count()

    with pytest.raises(ValidationError):
        services.note_add(access=selectors.case_access(investigator, case), body="   ")

    assert Case.objects.values_list("version", flat=True).get(pk=case.pk) == before
    assert CaseEvent.objects.count() == events


def test_reads_record_no_event(investigator: User, case: Case, parts: dict[str, Entity]) -> None:
    events = CaseEvent.objects.count()

    access = selectors.case_access(investigator, case)
    selectors.case_records(access)
    selectors.visible_entities(investigator)

    assert CaseEvent.objects.count() == events
