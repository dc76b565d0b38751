"""Plausible POST data for the leak sweep: for every pattern that takes POST
(``POST_DATA``), what its form would send, so that a refused request is refused for the
user's sake and not for bad data (and one who may act would change something). A pattern that
accepts POST without an entry here makes ``test_coverage.test_every_url_pattern_is_covered``
fail."""

from collections.abc import Callable
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from casebook.models import Agency, Notification
from cases.models import Case, CaseShare, Entity
from tests.factories import PASSWORD
from tests.leaks.targets import Target
from tests.leaks.world import CASES, TIME_SHIFT, World

PostData = Callable[[World, Target], dict[str, Any]]


def _today() -> str:
    return timezone.localdate().isoformat()


ENTITY_POST = {
    "person": {"role": "suspect", "name": "Posted Person"},
    "organisation": {"role": "suspect", "name": "Posted Organisation"},
    "phone": {"role": "suspect", "identifier": "+50769990001", "identifier_country": "PA"},
    "vehicle": {
        "role": "transporter",
        "subtype": "car",
        "identifier": "POST123",
        "identifier_country": "PA",
    },
    "account": {
        "role": "financier",
        "subtype": "bank_account",
        "identifier": "POST123",
        "identifier_country": "PA",
    },
    "document": {
        "role": "suspect",
        "subtype": "passport",
        "identifier": "POST123",
        "identifier_country": "HN",
    },
    "online": {"role": "recruiter", "subtype": "telegram", "identifier": "posted_handle"},
    "location": {
        "role": "other",
        "name": "Posted place",
        "subtype": "city",
        "identifier_country": "PA",
    },
}


def post_case(world: World, target: Target) -> dict[str, Any]:
    """A new case, or the case's own values with a new title (its handling code kept: a
    change of code is a decision about its shares, a form of its own)."""
    code = CASES[target.case][1] if target.case else Case.HandlingCode.AMBER
    return {
        "title": "Posted case",
        "kind": "smuggling",
        "status": "open",
        "handling_code": str(code),
        "summary": "Posted",
        "opened_on": _today(),
    }


def post_entity_add(world: World, target: Target) -> dict[str, Any]:
    return dict(ENTITY_POST.get(target.kwargs.get("kind", ""), {"role": "suspect"}))


def post_entity_edit(world: World, target: Target) -> dict[str, Any]:
    entity = target.obj
    if entity is None:
        return {"role": "suspect", "name": "Posted change", "description": "Posted change"}
    data = dict(ENTITY_POST[entity.kind])
    data["description"] = "Posted change"
    return data


def _case_entities(world: World, target: Target) -> tuple[str, dict[str, Entity]]:
    code = target.case or "AMB"
    return code, {
        "person": world.entities[(code, "U", "person")],
        "organisation": world.entities[(code, "U", "organisation")],
        "location": world.entities[(code, "U", "location")],
        "location2": world.entities[(code, "U", "location2")],
    }


def post_relationship(world: World, target: Target) -> dict[str, Any]:
    _code, entities = _case_entities(world, target)
    return {
        "source": str(entities["person"].uuid),
        "target": str(entities["organisation"].uuid),
        "kind": "pays",
        "source_reliability": "X",
        "information_assessment": "4",
    }


def post_movement(world: World, target: Target) -> dict[str, Any]:
    _code, entities = _case_entities(world, target)
    return {
        "origin": str(entities["location2"].uuid),
        "destination": str(entities["location"].uuid),
        "moved_on": (timezone.localdate() - TIME_SHIFT).isoformat(),
        "means": "car",
        "people_count": "2",
    }


def post_note(world: World, target: Target) -> dict[str, Any]:
    return {"body": "Posted note", "noted_on": _today()}


def post_evidence(world: World, target: Target) -> dict[str, Any]:
    return {
        "file": SimpleUploadedFile("posted.txt", b"posted evidence", content_type="text/plain"),
        "description": "Posted",
        "protected": "on",
    }


def post_member_add(world: World, target: Target) -> dict[str, Any]:
    return {
        "username": "posted.member",
        "first_name": "Posted",
        "last_name": "Member",
        "email": "posted.member@example.org",
        "roles": ["analyst"],
        "password": "a posted password 1234",
        "password_confirmation": "a posted password 1234",
    }


def post_member_edit(world: World, target: Target) -> dict[str, Any]:
    return {
        "first_name": "Posted",
        "last_name": "Change",
        "email": "posted.change@example.org",
        "roles": ["analyst", "investigator"],
    }


def post_share(world: World, target: Target) -> dict[str, Any]:
    outsider = world.agencies["HNPOL"]
    return {
        "agency": str(outsider.uuid),
        "level": CaseShare.Level.VIEW,
        "purpose": "Posted share",
    }


def post_notification(world: World, target: Target) -> dict[str, Any]:
    """Mark as read a notification of Costa Rica's police (a hit on its case)."""
    notification = (
        Notification.objects.filter(agency=world.agencies["CRPOL"], protected_only=False)
        .order_by("pk")
        .first()
    )
    assert notification is not None, "the world has no notification for CRPOL"
    return {"notification": str(notification.uuid)}


def post_password_change(world: World, target: Target) -> dict[str, Any]:
    """A wrong current password (not the factories'), and a new one the validators take."""
    new = "a posted passphrase, long 7319"
    return {"old_password": PASSWORD + "-wrong", "new_password1": new, "new_password2": new}


def post_agency_settings(world: World, target: Target) -> dict[str, Any]:
    return {
        "contact_point": "posted.contact@agency.example",
        "protected_match_policy": str(Agency.ProtectedMatchPolicy.OWNER_DECIDES),
    }


def post_wrong_code(world: World, target: Target) -> dict[str, Any]:
    return {"code": "000000"}


def post_nothing(world: World, target: Target) -> dict[str, Any]:
    return {}


# Pattern name -> plausible data for a POST (what the form would send). Every pattern that
# accepts POST must be here (the coverage test checks it).
POST_DATA: dict[str, PostData] = {
    "notifications": post_notification,
    "member_add": post_member_add,
    "member_edit": post_member_edit,
    "cases:create": post_case,
    "cases:edit": post_case,
    "cases:entity_add": post_entity_add,
    "cases:entity_edit": post_entity_edit,
    "cases:entity_remove": post_nothing,
    "cases:relationship_add": post_relationship,
    "cases:relationship_remove": post_nothing,
    "cases:movement_add": post_movement,
    "cases:movement_remove": post_nothing,
    "cases:note_add": post_note,
    "cases:evidence_add": post_evidence,
    "cases:shares": post_share,
    "cases:share_revoke": post_nothing,
    "cases:hit_dismiss": post_nothing,
    "cases:common_key_mark": post_nothing,
    "cases:common_key_restore": post_nothing,
    "account_password_change": post_password_change,
    "agency_settings": post_agency_settings,
    "signin:two_factor_verify": post_wrong_code,
    "signin:two_factor_setup": post_wrong_code,
    "signin:recovery_codes": post_wrong_code,
    "signin:member_unlock": post_nothing,
    "signin:member_two_factor_reset": post_nothing,
}
