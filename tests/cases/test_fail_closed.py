"""Fail-closed services: every write service that acts for a member checks, itself, what the
member may do, so that a new endpoint that forgets a check cannot write.

Each service of ``cases.services`` that takes a ``CaseAccess`` is called here with the
minimal valid arguments (``ACCESS_SERVICES``), first as a member who may (it writes), then
with accesses that must be refused: an analyst's (view only), one with no action at all, a
record of another case, and a protected identity for a partner agency whose share does not
include them. After each refusal nothing of the database (every table of ``cases`` and
``casebook``: records, history rows, case events, grants, notifications, the access log)
nor of the stored files has changed. The services that take the acting user instead
(``ACTOR_SERVICES``) are refused for members they do not act for.

``test_every_public_write_service_is_covered`` fails when a service joins
``cases.services.__all__`` without joining this file (or ``SYSTEM_SERVICES``, with a reason).
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from casebook.models import Agency
from cases import services
from cases.models import (
    Case,
    CaseShare,
    CommonKey,
    Entity,
    Evidence,
    Hit,
    MatchKey,
    Movement,
    Relationship,
)
from cases.permissions import CaseAccess
from cases.selectors import case_access
from tests.factories import make_case, make_entity, make_member

# Public names of ``cases.services`` that are not services acting for a member, and why.
SYSTEM_SERVICES: dict[str, str] = {
    "hits_detect": "a Celery task's work, for the write that queued it",
    "hits_notify": "a Celery task's work: notifies owner agencies of new hits",
    "detections_release": "the beat sweep that runs deferred detections",
    "hits_redetect_key": "a Celery task queued by common_key_restore, which is checked",
    "shares_expire": "the beat task that closes expired shares",
    "evidence_verify_integrity": "a Celery task: re-reads a stored file",
    "detection_request": "called by the entity services after their own check",
    "next_reference": "numbering inside case_create, which is checked",
    "references_reserve": "numbering for bulk writers (demo data)",
    "grant_owner_permissions": "inside case_create, which is checked",
    "owner_grant_rows": "unsaved grant rows for bulk writers (demo data)",
    "entity_match_keys": "pure: computes keys, writes nothing",
    "check_upload": "pure: checks an upload, writes nothing",
    "cases_lock": "a lock helper, called inside checked services",
    "protected_numbers_highest": "a read helper of the entity services",
    "protected_number_next": "a pure helper of the entity services",
}

PURPOSE = "Joint investigation of the Darién route"


# --- the world -------------------------------------------------------------------------------


@dataclass
class CaseRecords:
    """One case's records, each of a kind some service takes."""

    case: Case
    suspect: Entity
    lookout: Entity  # nothing depends on it: removable
    victim: Entity
    victim_phone: Entity  # a value a victim holds: protected through its holder
    origin: Entity
    destination: Entity
    relationship: Relationship  # suspect -> lookout
    victim_relationship: Relationship  # suspect -> victim
    movement: Movement  # facilitated by the suspect
    victim_movement: Movement  # a victim among its facilitators
    evidence: Evidence  # not protected: anyone who sees the case may download it
    protected_evidence: Evidence
    share: CaseShare  # with Guatemala's police, view level


@dataclass
class World:
    investigator: User
    supervisor: User
    analyst: User
    partner: User  # of an agency the case is shared with at the contribute level, masked
    outsider: User
    gt_supervisor: User
    cr_police: Agency
    this: CaseRecords
    other: CaseRecords  # another case of the same owner: the same members may do anything

    @property
    def case(self) -> Case:
        return self.this.case


def build_records(investigator: User, supervisor: User, gt_police: Agency) -> CaseRecords:
    case = make_case(investigator)
    owner = case_access(investigator, case)
    suspect = make_entity(investigator, case, name="José Pérez")
    lookout = make_entity(investigator, case, name="Luis Castro")
    victim = make_entity(investigator, case, name="María López Ríos", role=Entity.Role.VICTIM)
    victim_phone = make_entity(
        investigator, case, Entity.Kind.PHONE, identifier="+507 6999 0001", holder=victim,
        role=Entity.Role.OTHER,
    )  # fmt: skip
    origin = make_entity(investigator, case, Entity.Kind.LOCATION, name="Bajo Chiquito")
    destination = make_entity(investigator, case, Entity.Kind.LOCATION, name="Lajas Blancas")
    relationship = services.relationship_add(
        access=owner, source=suspect, target=lookout, kind=Relationship.Kind.EMPLOYS
    )
    victim_relationship = services.relationship_add(
        access=owner, source=suspect, target=victim, kind=Relationship.Kind.RECRUITS
    )
    movement = services.movement_add(
        access=owner, origin=origin, destination=destination, moved_on=datetime.date(2026, 2, 3),
        means="foot", people_count=12, facilitators=[suspect],
    )  # fmt: skip
    victim_movement = services.movement_add(
        access=owner, origin=destination, destination=origin, moved_on=datetime.date(2026, 2, 9),
        means="bus", people_count=3, facilitators=[victim],
    )  # fmt: skip
    evidence = services.evidence_add(
        access=owner, upload=SimpleUploadedFile("route.pdf", b"%PDF-1.4 route"), protected=False
    )
    protected_evidence = services.evidence_add(
        access=owner, upload=SimpleUploadedFile("statement.pdf", b"%PDF-1.4 statement")
    )
    share = services.case_share(
        access=case_access(supervisor, case),
        agency=gt_police,
        level=CaseShare.Level.VIEW,
        purpose=PURPOSE,
    )
    return CaseRecords(
        case, suspect, lookout, victim, victim_phone, origin, destination, relationship,
        victim_relationship, movement, victim_movement, evidence, protected_evidence, share,
    )  # fmt: skip


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def world(
    media: Path,
    investigator: User,
    supervisor: User,
    analyst: User,
    outsider: User,
    cr_police: Agency,
    gt_police: Agency,
    gt_supervisor: User,
    partner_agency: Agency,
    partner: User,
) -> World:
    this = build_records(investigator, supervisor, gt_police)
    other = build_records(investigator, supervisor, gt_police)
    # The partner's agency may contribute to the case but not see its protected identities:
    # whatever it is refused below is refused for the protection alone.
    services.case_share(
        access=case_access(supervisor, this.case),
        agency=partner_agency,
        level=CaseShare.Level.CONTRIBUTE,
        purpose=PURPOSE,
    )
    return World(
        investigator, supervisor, analyst, partner, outsider, gt_supervisor, cr_police, this,
        other,
    )  # fmt: skip


class Stored:
    """Every row of every table of ``cases`` and ``casebook`` (history, case events, grants,
    notifications and the access log among them), and the stored files: what a refused
    write must leave as it was. ``take()`` remembers them, ``changed()`` names what differs
    since."""

    def __init__(self, media: Path) -> None:
        self.media = media
        self.before: dict[str, list[dict[str, Any]]] = {}

    def now(self) -> dict[str, list[dict[str, Any]]]:
        rows = {
            model._meta.label: list(model._default_manager.order_by("pk").values())
            for label in ("cases", "casebook")
            for model in apps.get_app_config(label).get_models()
        }
        rows["stored files"] = [{"path": str(path)} for path in sorted(self.media.rglob("*"))]
        return rows

    def take(self) -> None:
        self.before = self.now()

    def changed(self) -> list[str]:
        return sorted(name for name, rows in self.now().items() if rows != self.before.get(name))


@pytest.fixture
def stored(media: Path) -> Stored:
    return Stored(media)


# --- the services that act on a case: minimal valid calls --------------------------------


@dataclass(frozen=True)
class AccessService:
    """A service that takes a ``CaseAccess``: the action it needs, and a minimal valid call
    (with the records of ``records``, which need not be of the access's case)."""

    action: str
    call: Callable[[CaseAccess, CaseRecords, World], object]
    # Who of the owner agency may: the investigator, or the supervisor (manage).
    allowed: str = "investigator"


def upload() -> SimpleUploadedFile:
    return SimpleUploadedFile("receipt.pdf", b"%PDF-1.4 receipt")


ACCESS_SERVICES: dict[str, AccessService] = {
    "case_update": AccessService(
        "change", lambda access, r, w: services.case_update(access=access, title="Renamed")
    ),
    "case_update_with_code": AccessService(
        "change",
        lambda access, r, w: services.case_update_with_code(
            access=access, handling_code=Case.HandlingCode.AMBER, title="Renamed"
        ),
    ),
    "case_set_handling_code": AccessService(
        "change",
        lambda access, r, w: services.case_set_handling_code(
            access=access, code=Case.HandlingCode.GREEN
        ),
    ),
    "case_share": AccessService(
        "manage",
        lambda access, r, w: services.case_share(
            access=access, agency=w.cr_police, level=CaseShare.Level.VIEW, purpose=PURPOSE
        ),
        allowed="supervisor",
    ),
    "share_revoke": AccessService(
        "manage",
        lambda access, r, w: services.share_revoke(access=access, share=r.share),
        allowed="supervisor",
    ),
    "entity_add": AccessService(
        "contribute",
        lambda access, r, w: services.entity_add(
            access=access, kind=Entity.Kind.PERSON, name="Ana Gómez", role=Entity.Role.SUSPECT
        ),
    ),
    "entity_update": AccessService(
        "contribute",
        lambda access, r, w: services.entity_update(
            access=access, entity=r.suspect, description="Seen in Yaviza"
        ),
    ),
    "entity_remove": AccessService(
        "contribute", lambda access, r, w: services.entity_remove(access=access, entity=r.lookout)
    ),
    "relationship_add": AccessService(
        "contribute",
        lambda access, r, w: services.relationship_add(
            access=access, source=r.lookout, target=r.suspect, kind=Relationship.Kind.PAYS
        ),
    ),
    "relationship_remove": AccessService(
        "contribute",
        lambda access, r, w: services.relationship_remove(
            access=access, relationship=r.relationship
        ),
    ),
    "movement_add": AccessService(
        "contribute",
        lambda access, r, w: services.movement_add(
            access=access,
            origin=r.origin,
            destination=r.destination,
            moved_on=datetime.date(2026, 3, 1),
            means="boat",
            people_count=2,
        ),  # fmt: skip
    ),
    "movement_remove": AccessService(
        "contribute",
        lambda access, r, w: services.movement_remove(access=access, movement=r.movement),
    ),
    "note_add": AccessService(
        "contribute",
        lambda access, r, w: services.note_add(access=access, body="Called the bus company."),
    ),
    "evidence_add": AccessService(
        "contribute",
        lambda access, r, w: services.evidence_add(access=access, upload=upload()),
    ),
    "evidence_record_download": AccessService(
        "view",
        lambda access, r, w: services.evidence_record_download(access=access, evidence=r.evidence),
    ),
}

# Refused with a ``ValidationError`` on its form field, not ``PermissionDenied``: the case
# edit page shows the refusal on the handling-code field. Refused either way, nothing written.
REFUSED_WITH: dict[str, type[Exception]] = {"case_set_handling_code": ValidationError}


def allowed_access(world: World, name: str) -> CaseAccess:
    member: User = getattr(world, ACCESS_SERVICES[name].allowed)
    return case_access(member, world.case)


def refusal(name: str) -> type[Exception]:
    return REFUSED_WITH.get(name, PermissionDenied)


# --- the services that act for a member without a case access -----------------------------


def make_hit(world: World) -> Hit:
    """A hit between the case's suspect and an entity of a case of Costa Rica's police: the
    owner agency is told of it, nobody else."""
    cr_case = make_case(world.outsider, title="Trata en Limón")
    cr_entity = make_entity(world.outsider, cr_case, name="José Pérez")
    low, high = sorted([world.this.suspect, cr_entity], key=lambda entity: entity.pk)
    return Hit.objects.create(
        entity=low, other=high, case=low.case, other_case=high.case, key="name:jose perez"
    )


def make_common_key(world: World) -> CommonKey:
    """A common key held by the case's suspect (Panama's supervisors review it)."""
    key = MatchKey.objects.filter(entity=world.this.suspect).values_list("key", flat=True)[0]
    return CommonKey.objects.create(key=key)


@dataclass(frozen=True)
class ActorService:
    """A service that takes the acting user: a minimal valid call with its target, who may
    call it, and who of the personas may not."""

    target: Callable[[World], Any]
    call: Callable[[User, Any, World], object]
    allowed: str
    refused: tuple[str, ...]


ACTOR_SERVICES: dict[str, ActorService] = {
    "case_create": ActorService(
        target=lambda w: w.investigator.member.agency,
        call=lambda actor, agency, w: services.case_create(
            actor=actor,
            agency=agency,
            title="Trata en Darién",
            kind=Case.Kind.TRAFFICKING,
            handling_code=Case.HandlingCode.AMBER,
        ),  # fmt: skip
        allowed="investigator",
        # an analyst and a supervisor may not open cases; the outsider is of another agency
        refused=("analyst", "supervisor", "outsider", "partner"),
    ),
    "hit_dismiss": ActorService(
        target=make_hit,
        call=lambda actor, hit, w: services.hit_dismiss(actor=actor, hit=hit),
        allowed="investigator",
        # the partner's agency sees the case but is not told of its hits; Guatemala's
        # police see neither case
        refused=("partner", "gt_supervisor"),
    ),
    "common_key_mark": ActorService(
        target=make_common_key,
        call=lambda actor, key, w: services.common_key_mark(actor=actor, common_key=key),
        allowed="supervisor",
        # not a supervisor; a supervisor of an agency that does not hold the key
        refused=("investigator", "analyst", "gt_supervisor", "outsider"),
    ),
    "common_key_restore": ActorService(
        target=make_common_key,
        call=lambda actor, key, w: services.common_key_restore(actor=actor, common_key=key),
        allowed="supervisor",
        refused=("investigator", "analyst", "gt_supervisor", "outsider"),
    ),
}


# --- coverage --------------------------------------------------------------------------------


def test_every_public_write_service_is_covered() -> None:
    public = {name for name in services.__all__ if callable(getattr(services, name))}
    covered = set(ACCESS_SERVICES) | set(ACTOR_SERVICES)
    missing = public - covered - set(SYSTEM_SERVICES)
    assert not missing, (
        f"new public services {sorted(missing)}: add them to ACCESS_SERVICES or "
        "ACTOR_SERVICES of this file (or to SYSTEM_SERVICES if they act for nobody)"
    )
    assert covered <= public, f"no longer public: {sorted(covered - public)}"
    assert not covered & set(SYSTEM_SERVICES)


# --- the member who may, may: the calls are valid, and a write is seen --------------------


@pytest.mark.parametrize("name", sorted(ACCESS_SERVICES))
def test_a_member_who_may_writes(name: str, world: World, stored: Stored) -> None:
    access = allowed_access(world, name)
    stored.take()

    ACCESS_SERVICES[name].call(access, world.this, world)

    assert stored.changed()


@pytest.mark.parametrize("name", sorted(ACTOR_SERVICES))
def test_a_member_who_may_acts(name: str, world: World, stored: Stored) -> None:
    service = ACTOR_SERVICES[name]
    target = service.target(world)
    stored.take()

    service.call(getattr(world, service.allowed), target, world)

    assert stored.changed()


# --- refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", sorted(name for name, s in ACCESS_SERVICES.items() if s.action != "view")
)
def test_an_analysts_access_is_refused_and_nothing_is_written(
    name: str, world: World, stored: Stored
) -> None:
    access = case_access(world.analyst, world.case)
    assert access.allows("view") and not access.allows(ACCESS_SERVICES[name].action)
    stored.take()

    with pytest.raises(refusal(name)):
        ACCESS_SERVICES[name].call(access, world.this, world)

    assert stored.changed() == []


@pytest.mark.parametrize("name", sorted(ACCESS_SERVICES))
def test_an_access_without_actions_is_refused_and_nothing_is_written(
    name: str, world: World, stored: Stored
) -> None:
    # The member who may, as far as the database goes: only the access value says no.
    member = allowed_access(world, name).user
    access = CaseAccess(user=member, case=world.case, actions=frozenset())
    stored.take()

    with pytest.raises(refusal(name)):
        ACCESS_SERVICES[name].call(access, world.this, world)

    assert stored.changed() == []


def on_other_cases_records(name: str) -> Callable[[CaseAccess, World], object]:
    """The minimal call of service ``name`` with the records of the other case."""
    service = ACCESS_SERVICES[name]
    return lambda access, w: service.call(access, w.other, w)


# Services handed a record of another case (the member may do anything on both cases).
# Those that take the record itself refuse the request (403); those that take entities to
# link or hold refuse the entity on its field, as the form would.
OTHER_CASE_REFUSALS: dict[str, tuple[Callable[[CaseAccess, World], object], type[Exception]]] = {
    **{
        name: (on_other_cases_records(name), PermissionDenied)
        for name in (
            "share_revoke",
            "entity_update",
            "entity_remove",
            "relationship_remove",
            "movement_remove",
            "evidence_record_download",
        )
    },
    "relationship_add": (
        lambda access, w: services.relationship_add(
            access=access,
            source=w.this.suspect,
            target=w.other.lookout,
            kind=Relationship.Kind.PAYS,
        ),  # fmt: skip
        ValidationError,
    ),
    "movement_add": (
        lambda access, w: services.movement_add(
            access=access,
            origin=w.this.origin,
            destination=w.other.destination,
            moved_on=datetime.date(2026, 3, 1),
            means="boat",
            people_count=2,
        ),  # fmt: skip
        ValidationError,
    ),
    "movement_add (facilitator)": (
        lambda access, w: services.movement_add(
            access=access,
            origin=w.this.origin,
            destination=w.this.destination,
            moved_on=datetime.date(2026, 3, 1),
            means="boat",
            people_count=2,
            facilitators=[w.other.suspect],
        ),  # fmt: skip
        ValidationError,
    ),
    "entity_add (holder)": (
        lambda access, w: services.entity_add(
            access=access,
            kind=Entity.Kind.PHONE,
            identifier="+507 6123 9999",
            identifier_country="PA",
            role=Entity.Role.OTHER,
            holder=w.other.suspect,
        ),  # fmt: skip
        ValidationError,
    ),
}


@pytest.mark.parametrize("name", sorted(OTHER_CASE_REFUSALS))
def test_a_record_of_another_case_is_refused_and_nothing_is_written(
    name: str, world: World, stored: Stored
) -> None:
    call, refused_with = OTHER_CASE_REFUSALS[name]
    access = allowed_access(world, name.split()[0])
    assert access.allows(ACCESS_SERVICES[name.split()[0]].action)
    stored.take()

    with pytest.raises(refused_with):
        call(access, world)

    assert stored.changed() == []


def test_every_service_that_takes_a_record_is_tried_with_another_cases() -> None:
    takes_records = {
        name for name, service in ACCESS_SERVICES.items() if name.endswith(("_update", "_remove"))
    } - {"case_update"}
    assert takes_records | {"share_revoke", "evidence_record_download"} <= set(OTHER_CASE_REFUSALS)


# What the partner (contribute level, protected identities masked) may not change: the
# protected identities, the values they hold, and what links to them; nor download a
# protected file.
PROTECTED_REFUSALS: dict[str, Callable[[CaseAccess, World], object]] = {
    "entity_update (victim)": lambda access, w: services.entity_update(
        access=access, entity=w.this.victim, description="Seen in Yaviza"
    ),
    "entity_update (victim's phone)": lambda access, w: services.entity_update(
        access=access, entity=w.this.victim_phone, description="Prepaid"
    ),
    "entity_remove (victim)": lambda access, w: services.entity_remove(
        access=access, entity=w.this.victim
    ),
    "entity_remove (victim's phone)": lambda access, w: services.entity_remove(
        access=access, entity=w.this.victim_phone
    ),
    "relationship_remove": lambda access, w: services.relationship_remove(
        access=access, relationship=w.this.victim_relationship
    ),
    "movement_remove": lambda access, w: services.movement_remove(
        access=access, movement=w.this.victim_movement
    ),
    "evidence_record_download": lambda access, w: services.evidence_record_download(
        access=access, evidence=w.this.protected_evidence
    ),
}


@pytest.fixture
def partner_access(world: World) -> CaseAccess:
    access = case_access(world.partner, world.case)
    assert access.allows("contribute") and not access.sees_protected
    return access


@pytest.mark.parametrize("name", sorted(PROTECTED_REFUSALS))
def test_a_protected_record_is_refused_to_a_partner_who_sees_it_masked(
    name: str, world: World, partner_access: CaseAccess, stored: Stored
) -> None:
    stored.take()

    with pytest.raises(PermissionDenied):
        PROTECTED_REFUSALS[name](partner_access, world)

    assert stored.changed() == []


def test_removing_an_entity_linked_to_a_victim_is_refused_to_a_partner_who_sees_the_link_masked(
    world: World, partner_access: CaseAccess, stored: Stored
) -> None:
    # The suspect is not protected, but removing it removes its relationship with the victim,
    # which the partner sees masked: removing that requires seeing it (as the page says).
    stored.take()

    with pytest.raises(PermissionDenied):
        services.entity_remove(access=partner_access, entity=world.this.suspect)

    assert stored.changed() == []


@pytest.mark.parametrize(
    "name", ["entity_update", "entity_remove", "relationship_remove", "movement_remove"]
)
def test_the_partner_may_change_what_is_not_protected(
    name: str, world: World, partner_access: CaseAccess, stored: Stored
) -> None:
    # The same services and the same access: the refusals above are for the protection.
    stored.take()

    ACCESS_SERVICES[name].call(partner_access, world.this, world)

    assert stored.changed()


def test_the_owners_analyst_may_not_download_a_protected_file(world: World, stored: Stored) -> None:
    access = case_access(world.analyst, world.case)
    stored.take()

    with pytest.raises(PermissionDenied):
        services.evidence_record_download(access=access, evidence=world.this.protected_evidence)

    assert stored.changed() == []


@pytest.mark.parametrize(
    ("name", "persona"),
    [(name, persona) for name, s in sorted(ACTOR_SERVICES.items()) for persona in s.refused],
)
def test_a_member_the_service_does_not_act_for_is_refused_and_nothing_is_written(
    name: str, persona: str, world: World, stored: Stored
) -> None:
    service = ACTOR_SERVICES[name]
    target = service.target(world)
    stored.take()

    with pytest.raises(PermissionDenied):
        service.call(getattr(world, persona), target, world)

    assert stored.changed() == []


def test_a_user_without_membership_may_not_open_a_case(world: World, stored: Stored) -> None:
    nobody = User.objects.create_user("nobody")
    stored.take()

    with pytest.raises(PermissionDenied):
        ACTOR_SERVICES["case_create"].call(nobody, world.investigator.member.agency, world)

    assert stored.changed() == []


def test_an_investigator_may_not_open_a_case_for_another_agency(
    world: World, stored: Stored
) -> None:
    stored.take()

    with pytest.raises(PermissionDenied):
        ACTOR_SERVICES["case_create"].call(world.investigator, world.cr_police, world)

    assert stored.changed() == []


def test_an_inactive_member_may_not_open_a_case(world: World, stored: Stored) -> None:
    former = make_member(world.investigator.member.agency, "investigator", username="former.pa")
    former.is_active = False
    former.save()
    stored.take()

    with pytest.raises(PermissionDenied):
        ACTOR_SERVICES["case_create"].call(former, world.investigator.member.agency, world)

    assert stored.changed() == []
