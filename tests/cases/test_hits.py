"""Hit / no-hit: cross-case matches are found, deduplicated, told to each side with nothing of
the other case but whom to contact, turned into links once the case is shared, kept from
members who may not see protected identities, and silenced for keys that are too common."""

import datetime
from typing import Any

import pytest
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from casebook.models import Agency, Country, Notification
from cases import services
from cases.models import (
    Case,
    CaseGroupObjectPermission,
    CommonKey,
    Entity,
    Hit,
    HitDismissal,
)
from cases.selectors import case_access, permission_id
from cases.services import hits
from tests.conftest import client_for
from tests.factories import AgencyFactory, make_case, make_entity, make_member

PHONE = "+507 6123 4567"
PASSPORT = {"identifier": "PA1234567", "identifier_country": "PA", "subtype": "passport"}
CR_CONTACT = "enlace.trata@oij.example"
# Things of Costa Rica's case that Panama may never see.
CR_MARKERS = ("CR-MARKER-TITLE", "CR-MARKER-NAME", "CR-MARKER-DESC", "CR-MARKER-SUMMARY")


def detect(*entities: Entity) -> None:
    """Detection as the task runs it, with what it queues on commit (the notifications)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        for entity in entities:
            hits.hits_detect(entity_id=entity.pk)


def grant(case: Case, agency: Agency, *codenames: str) -> None:
    """What a share writes: grant rows for the agency's group (the sharing service's job)."""
    for codename in codenames or ("view_case",):
        CaseGroupObjectPermission.objects.create(
            content_object=case, group=agency.group, permission_id=permission_id(codename)
        )


def pair_hits(a: Entity, b: Entity) -> list[Hit]:
    low, high = sorted([a.pk, b.pk])
    return list(Hit.objects.filter(entity_id=low, other_id=high))


@pytest.fixture
def world(investigator: Any, outsider: Any, cr_police: Agency) -> dict[str, Any]:
    """Panama's case and Costa Rica's case share a phone and a passport."""
    cr_police.contact_point = CR_CONTACT
    cr_police.save()
    pa_case = make_case(investigator, title="Red de coyotes del Darién")
    cr_case = make_case(
        outsider, title="CR-MARKER-TITLE Trata en Limón", summary="CR-MARKER-SUMMARY"
    )
    pa_phone = make_entity(investigator, pa_case, Entity.Kind.PHONE, identifier=PHONE)
    pa_passport = make_entity(investigator, pa_case, Entity.Kind.DOCUMENT, **PASSPORT)
    cr_person = make_entity(outsider, cr_case, name="CR-MARKER-NAME Rodríguez")
    cr_phone = make_entity(
        outsider,
        cr_case,
        Entity.Kind.PHONE,
        identifier="+50761234567",
        identifier_country="CR",
        holder=cr_person,
        description="CR-MARKER-DESC",
    )
    cr_passport = make_entity(outsider, cr_case, Entity.Kind.DOCUMENT, **PASSPORT)
    detect(pa_phone, pa_passport, cr_person, cr_phone, cr_passport)
    return {
        "pa_case": pa_case,
        "cr_case": cr_case,
        "pa_phone": pa_phone,
        "pa_passport": pa_passport,
        "cr_phone": cr_phone,
        "cr_passport": cr_passport,
        "cr_person": cr_person,
    }


def hits_page(user: Any, query: str = "") -> str:
    response = client_for(user).get(reverse("cases:hits") + query)
    assert response.status_code == 200
    return response.content.decode()


def entity_page(user: Any, entity: Entity) -> str:
    url = reverse("cases:entity", kwargs={"case": entity.case.uuid, "entity": entity.uuid})
    response = client_for(user).get(url)
    assert response.status_code == 200
    return response.content.decode()


def assert_no_cr_secret(html: str, world: dict[str, Any]) -> None:
    for marker in CR_MARKERS:
        assert marker not in html
    assert world["cr_case"].reference not in html
    assert str(world["cr_case"].uuid) not in html
    assert str(world["cr_phone"].uuid) not in html


# --- detection ------------------------------------------------------------------------------


def test_a_shared_phone_and_passport_give_one_hit_per_pair_of_entities(world: dict) -> None:
    assert Hit.objects.count() == 2
    (phone_hit,) = pair_hits(world["pa_phone"], world["cr_phone"])
    assert phone_hit.key == "phone:+50761234567"
    assert phone_hit.entity_id < phone_hit.other_id
    assert {phone_hit.case_id, phone_hit.other_case_id} == {
        world["pa_case"].pk,
        world["cr_case"].pk,
    }
    assert len(pair_hits(world["pa_passport"], world["cr_passport"])) == 1


def test_detection_again_and_repeated_edits_keep_the_same_single_hit(
    world: dict, investigator: Any
) -> None:
    (before,) = pair_hits(world["pa_phone"], world["cr_phone"])
    for description in ("first", "second", "third"):
        services.entity_update(
            access=case_access(investigator, world["pa_phone"].case),
            entity=world["pa_phone"],
            description=description,
        )
        detect(world["pa_phone"], world["cr_phone"])
    (after,) = pair_hits(world["pa_phone"], world["cr_phone"])
    assert after.uuid == before.uuid
    assert Hit.objects.count() == 2


def test_two_people_sharing_several_keys_are_one_hit(investigator: Any, outsider: Any) -> None:
    values: dict[str, Any] = {
        "name": "Juan Carlos Pérez",
        "aliases": "El Flaco",
        "birth_date": datetime.date(1980, 2, 3),
    }
    mine = make_entity(investigator, make_case(investigator), **values)
    theirs = make_entity(outsider, make_case(outsider), **values)
    detect(mine, theirs)
    (hit,) = Hit.objects.all()
    assert hit.key == min(["name:carlos juan perez|1980-02-03", "name:el flaco|1980-02-03"])


def test_entities_of_the_same_case_are_no_hit(investigator: Any, case: Case) -> None:
    first = make_entity(investigator, case, Entity.Kind.PHONE)
    second = make_entity(investigator, case, Entity.Kind.PHONE)
    detect(first, second)
    assert not Hit.objects.exists()


def test_an_edit_that_removes_the_phone_removes_the_hit(world: dict, investigator: Any) -> None:
    services.entity_update(
        access=case_access(investigator, world["pa_phone"].case),
        entity=world["pa_phone"],
        identifier="6999 0000",
    )
    detect(world["pa_phone"])
    assert pair_hits(world["pa_phone"], world["cr_phone"]) == []
    assert len(pair_hits(world["pa_passport"], world["cr_passport"])) == 1


def test_a_hit_moves_to_another_shared_key_when_its_key_goes(
    investigator: Any, outsider: Any
) -> None:
    mine = make_entity(investigator, make_case(investigator), name="Ana Gómez", aliases="La Tía")
    theirs = make_entity(outsider, make_case(outsider), name="Ana Gómez", aliases="La Tía")
    detect(mine)
    (hit,) = Hit.objects.all()
    assert hit.key == "name:ana gomez"
    services.entity_update(
        access=case_access(investigator, mine.case), entity=mine, name="Ana Gómez Ruiz"
    )
    detect(mine)
    (moved,) = Hit.objects.all()
    assert (moved.uuid, moved.key) == (hit.uuid, "name:la tia")
    assert theirs.pk in (moved.entity_id, moved.other_id)


def test_removing_an_entity_removes_its_hits(world: dict, outsider: Any) -> None:
    services.entity_remove(
        access=case_access(outsider, world["cr_phone"].case), entity=world["cr_phone"]
    )
    assert Hit.objects.count() == 1


def test_detection_of_an_entity_that_no_longer_exists_does_nothing(db: Any) -> None:
    assert hits.hits_detect(entity_id=987654) == []


# --- notifications ------------------------------------------------------------------------


def test_a_new_hit_notifies_both_agencies_with_whom_to_contact_and_nothing_else(
    world: dict, pa_police: Agency, cr_police: Agency
) -> None:
    to_panama = Notification.objects.filter(agency=pa_police, kind=Notification.Kind.HIT)
    to_costa_rica = Notification.objects.filter(agency=cr_police, kind=Notification.Kind.HIT)
    assert to_panama.count() == 2  # the phone and the passport
    assert to_costa_rica.count() == 2
    for note in to_panama:
        assert note.case == world["pa_case"]
        assert world["pa_case"].reference in note.message
        assert cr_police.name in note.message
        assert "Costa Rica" in note.message
        assert CR_CONTACT in note.message
        assert_no_cr_secret(note.message, world)
        assert not note.protected_only
    detect(world["pa_phone"], world["cr_phone"])
    assert to_panama.count() == 2  # no second notification for the same hit


def test_notifying_again_adds_nothing_and_skips_hits_that_are_gone(world: dict) -> None:
    from cases.tasks import hits_notify_task

    (hit,) = pair_hits(world["pa_phone"], world["cr_phone"])
    before = Notification.objects.count()
    assert hits_notify_task.apply(args=([[hit.entity_id, hit.other_id]],)).get() == 0
    assert hits.hits_notify(pairs=[[1, 2], [hit.other_id, hit.entity_id]]) == 0
    assert Notification.objects.count() == before


def test_an_agency_that_may_see_the_other_case_gets_a_link_not_a_notification(
    investigator: Any, outsider: Any, pa_police: Agency, cr_police: Agency
) -> None:
    cr_case = make_case(outsider)
    grant(cr_case, pa_police)
    mine = make_entity(investigator, make_case(investigator), Entity.Kind.PHONE)
    make_entity(outsider, cr_case, Entity.Kind.PHONE, identifier=PHONE)
    detect(mine)
    assert not Notification.objects.filter(agency=pa_police).exists()
    assert Notification.objects.filter(agency=cr_police).count() == 1


def allow_protected_matches(agency: Agency) -> None:
    agency.protected_match_policy = Agency.ProtectedMatchPolicy.OWNER_DECIDES
    agency.save()


def test_a_match_on_a_protected_identity_is_notified_to_protected_readers_only(
    investigator: Any, outsider: Any, pa_police: Agency, cr_police: Agency
) -> None:
    allow_protected_matches(pa_police)
    case = make_case(investigator)
    victim = make_entity(investigator, case, name="Víctima Protegida", role="victim")
    phone = make_entity(investigator, case, Entity.Kind.PHONE, holder=victim)
    make_entity(outsider, make_case(outsider), Entity.Kind.PHONE, identifier=PHONE)
    detect(phone)
    (note,) = Notification.objects.filter(agency=pa_police)
    assert note.protected_only
    assert note.kind == Notification.Kind.HIT_PROTECTED
    assert "Víctima" not in note.message
    assert not Notification.objects.filter(agency=cr_police).exists()


# --- what each member is told ---------------------------------------------------------------


def test_investigator_sees_the_hit_with_agency_country_and_contact_point_only(
    world: dict, investigator: Any, cr_police: Agency
) -> None:
    html = hits_page(investigator)
    assert cr_police.name in html
    assert "Costa Rica" in html
    assert CR_CONTACT in html
    assert world["pa_case"].reference in html
    assert "+50761234567" in html or "6123" in html  # their own phone
    assert "phone number" in html
    assert "identity document" in html
    assert_no_cr_secret(html, world)


def test_the_other_side_is_told_the_same_about_panama(
    world: dict, outsider: Any, pa_police: Agency
) -> None:
    html = hits_page(outsider)
    assert pa_police.name in html
    assert "Panama" in html or "Panamá" in html
    assert world["cr_case"].reference in html
    assert world["pa_case"].reference not in html
    assert "Red de coyotes" not in html


def test_a_member_of_a_third_agency_is_told_nothing(world: dict) -> None:
    guatemala = AgencyFactory.create(country=Country.objects.get(code="GT"), name="PNC Guatemala")
    html = hits_page(make_member(guatemala, "investigator", "supervisor"))
    assert "Organismo" not in html
    assert world["pa_case"].reference not in html
    assert str(pair_hits(world["pa_phone"], world["cr_phone"])[0].uuid) not in html


def test_users_of_no_agency_get_an_empty_hits_page(world: dict) -> None:
    from tests.factories import UserFactory

    admin = UserFactory.create(username="root", is_staff=True, is_superuser=True)
    html = hits_page(admin)
    assert "Organismo" not in html
    assert "No hits" in html


def test_sharing_the_case_turns_the_hit_into_a_link_on_the_entity_page(
    world: dict, investigator: Any, outsider: Any, pa_police: Agency
) -> None:
    cr_url = reverse(
        "cases:entity", kwargs={"case": world["cr_case"].uuid, "entity": world["cr_phone"].uuid}
    )
    before = entity_page(investigator, world["pa_phone"])
    assert "Organismo de Investigación Judicial" in before  # a hit: whom to contact
    assert cr_url not in before
    grant(world["cr_case"], pa_police)
    html = hits_page(investigator)
    assert "Organismo de Investigación Judicial" not in html  # no longer a hit
    page = entity_page(investigator, world["pa_phone"])
    assert cr_url in page
    assert world["cr_case"].reference in page
    assert "Organismo de Investigación Judicial" not in page
    # Costa Rica still may not see Panama's case: for them it is still a hit.
    assert "Servicio Nacional de Fronteras" in hits_page(outsider)


def test_a_hit_with_an_invisible_case_is_never_a_link_nor_a_count_on_the_entity_page(
    world: dict, investigator: Any
) -> None:
    page = entity_page(investigator, world["pa_phone"])
    assert_no_cr_secret(page, world)
    assert "1 match" not in page


def test_protected_victims_phone_hit_is_shown_only_to_who_may_see_protected_identities(
    investigator: Any, analyst: Any, supervisor: Any, outsider: Any, pa_police: Agency
) -> None:
    allow_protected_matches(pa_police)
    case = make_case(investigator)
    victim = make_entity(investigator, case, name="Víctima Protegida", role="victim")
    phone = make_entity(investigator, case, Entity.Kind.PHONE, holder=victim)
    make_entity(outsider, make_case(outsider), Entity.Kind.PHONE, identifier=PHONE)
    detect(phone)
    assert "Organismo" in hits_page(investigator)
    assert "Organismo" not in hits_page(analyst)
    assert "Organismo" not in hits_page(supervisor)
    # The other side of Costa Rica's match is Panama's protected identity: never told.
    assert pa_police.name not in hits_page(outsider)


def test_the_other_agency_tells_only_its_protected_readers_when_their_side_is_protected(
    investigator: Any, outsider: Any, cr_police: Agency, pa_police: Agency
) -> None:
    allow_protected_matches(cr_police)
    cr_analyst = make_member(cr_police, "analyst")
    witness = make_entity(outsider, make_case(outsider), Entity.Kind.PHONE, role="witness")
    mine = make_entity(investigator, make_case(investigator), Entity.Kind.PHONE)
    detect(mine, witness)
    assert pa_police.name in hits_page(outsider)
    assert pa_police.name not in hits_page(cr_analyst)
    # Panama entered the value Costa Rica's witness holds: Panama learns nothing.
    assert cr_police.name not in hits_page(investigator)


def test_an_agency_a_case_is_shared_with_is_not_told_of_that_cases_hits(
    investigator: Any, outsider: Any, pa_police: Agency
) -> None:
    guatemala = AgencyFactory.create(country=Country.objects.get(code="GT"), name="PNC Guatemala")
    cr_case = make_case(outsider)
    grant(cr_case, pa_police)
    theirs = make_entity(outsider, cr_case, Entity.Kind.PHONE, identifier=PHONE)
    gt_user = make_member(guatemala, "investigator")
    detect(make_entity(gt_user, make_case(gt_user), Entity.Kind.PHONE), theirs)
    assert "PNC Guatemala" not in hits_page(investigator)
    assert "PNC Guatemala" in hits_page(outsider)


def test_two_cases_of_one_agency_give_a_link_not_a_hit(investigator: Any) -> None:
    first = make_entity(investigator, make_case(investigator), Entity.Kind.PHONE)
    second = make_entity(investigator, make_case(investigator), Entity.Kind.PHONE)
    detect(first)
    assert Hit.objects.count() == 1
    assert "Dismiss" not in hits_page(investigator)
    assert str(second.uuid) in entity_page(investigator, first)


# --- dismissing ---------------------------------------------------------------------------


def dismiss_url(hit: Hit) -> str:
    return reverse("cases:hit_dismiss", kwargs={"hit": hit.uuid})


def test_dismissing_hides_the_hit_for_the_agency_only(
    world: dict, investigator: Any, outsider: Any, analyst: Any, pa_police: Agency
) -> None:
    (hit,) = pair_hits(world["pa_phone"], world["cr_phone"])
    response = client_for(investigator).post(dismiss_url(hit))
    assert response.status_code == 302
    assert HitDismissal.objects.filter(hit=hit, agency=pa_police, dismissed_by=investigator)
    assert dismiss_url(hit) not in hits_page(investigator)
    assert dismiss_url(hit) not in hits_page(analyst)  # the whole agency
    assert "dismissed" in hits_page(investigator, "?dismissed=1")
    assert dismiss_url(hit) in hits_page(outsider)  # Costa Rica still has it
    assert client_for(investigator).post(dismiss_url(hit)).status_code == 302  # idempotent
    assert HitDismissal.objects.count() == 1


def test_dismissing_a_hit_of_other_agencies_is_404_like_an_unknown_one(
    world: dict, investigator: Any
) -> None:
    guatemala = AgencyFactory.create(country=Country.objects.get(code="GT"))
    stranger = make_member(guatemala, "investigator", "supervisor")
    (hit,) = pair_hits(world["pa_phone"], world["cr_phone"])
    assert client_for(stranger).post(dismiss_url(hit)).status_code == 404
    unknown = reverse("cases:hit_dismiss", kwargs={"hit": "0" * 8 + "-0000-0000-0000-" + "0" * 12})
    assert client_for(investigator).post(unknown).status_code == 404
    assert not HitDismissal.objects.exists()


def test_a_protected_hit_cannot_be_dismissed_by_who_may_not_see_it(
    investigator: Any, analyst: Any, outsider: Any, pa_police: Agency
) -> None:
    allow_protected_matches(pa_police)
    case = make_case(investigator)
    phone = make_entity(investigator, case, Entity.Kind.PHONE, role="victim")
    make_entity(outsider, make_case(outsider), Entity.Kind.PHONE, identifier=PHONE)
    detect(phone)
    (hit,) = Hit.objects.all()
    assert client_for(analyst).post(dismiss_url(hit)).status_code == 404
    assert not HitDismissal.objects.exists()


def test_dismiss_is_post_only(world: dict, investigator: Any) -> None:
    (hit,) = pair_hits(world["pa_phone"], world["cr_phone"])
    assert client_for(investigator).get(dismiss_url(hit)).status_code == 405


def test_anonymous_visitors_are_sent_to_log_in(world: dict) -> None:
    (hit,) = pair_hits(world["pa_phone"], world["cr_phone"])
    for url in (reverse("cases:hits"), reverse("cases:common_keys")):
        assert client_for_anonymous().get(url).status_code == 302
    assert client_for_anonymous().post(dismiss_url(hit)).status_code == 302
    assert not HitDismissal.objects.exists()


def client_for_anonymous() -> Any:
    from django.test import Client

    return Client()


# --- noise control ------------------------------------------------------------------------


@pytest.fixture
def switchboard(settings: Any, investigator: Any, outsider: Any) -> dict[str, Any]:
    """A phone in 4 entities of 4 cases of limit + 1 = 3 agencies."""
    settings.CASEBOOK_HIT_KEY_LIMIT = 2
    guatemala = AgencyFactory.create(country=Country.objects.get(code="GT"))
    gt_user = make_member(guatemala, "investigator", "supervisor")
    holders = [
        make_entity(investigator, make_case(investigator), Entity.Kind.PHONE),
        make_entity(outsider, make_case(outsider), Entity.Kind.PHONE, identifier=PHONE),
        make_entity(outsider, make_case(outsider), Entity.Kind.PHONE, identifier=PHONE),
    ]
    detect(*holders)
    assert Hit.objects.count() == 3  # two agencies, at the limit: still hits
    last = make_entity(gt_user, make_case(gt_user), Entity.Kind.PHONE, identifier=PHONE)
    detect(last)
    return {"holders": [*holders, last], "gt_user": gt_user}


def test_a_key_held_by_more_entities_than_the_limit_is_common_and_gives_no_hits(
    switchboard: dict,
) -> None:
    (common,) = CommonKey.objects.all()
    assert common.key == "phone:+50761234567"
    assert common.marked_common_at is None
    assert not Hit.objects.exists()  # the earlier hits of the key went too
    detect(*switchboard["holders"])
    assert not Hit.objects.exists()


def test_a_pair_that_shares_another_key_keeps_its_hit_when_one_key_becomes_common(
    settings: Any, investigator: Any, outsider: Any
) -> None:
    settings.CASEBOOK_HIT_KEY_LIMIT = 2
    values = {"name": "Luis Mora", "aliases": "Don Lucho"}
    mine = make_entity(investigator, make_case(investigator), **values)
    theirs = make_entity(outsider, make_case(outsider), **values)
    detect(mine)
    guatemala = AgencyFactory.create(country=Country.objects.get(code="GT"))
    gt_user = make_member(guatemala, "investigator")
    make_entity(gt_user, make_case(gt_user), name="Luis Mora")
    detect(*Entity.objects.all())
    assert CommonKey.objects.filter(key="name:luis mora").exists()
    (hit,) = Hit.objects.all()
    assert hit.key == "name:don lucho"
    assert {hit.entity_id, hit.other_id} == {mine.pk, theirs.pk}


def test_supervisor_sees_a_common_key_only_if_their_agency_holds_it(
    switchboard: dict, supervisor: Any, investigator: Any
) -> None:
    url = reverse("cases:common_keys")
    html = client_for(supervisor).get(url).content.decode()
    assert "+50761234567" in html
    assert "1 entity" in html  # Panama's own: never how many others hold it
    assert "4 entities" not in html
    assert "3 entities" not in html
    mexico = AgencyFactory.create(country=Country.objects.get(code="MX"))
    stranger = make_member(mexico, "supervisor")
    html = client_for(stranger).get(url).content.decode()
    assert "+50761234567" not in html
    assert client_for(investigator).get(url).status_code == 403


def test_supervisor_marks_a_common_key_and_others_get_404(
    switchboard: dict, supervisor: Any
) -> None:
    common = CommonKey.objects.get()
    url = reverse("cases:common_key_mark", kwargs={"key": common.uuid})
    mexico = AgencyFactory.create(country=Country.objects.get(code="MX"))
    assert client_for(make_member(mexico, "supervisor")).post(url).status_code == 404
    common.refresh_from_db()
    assert common.marked_common_at is None
    assert client_for(supervisor).post(url).status_code == 302
    common.refresh_from_db()
    assert common.marked_common_by == supervisor
    html = client_for(supervisor).get(reverse("cases:common_keys")).content.decode()
    assert "Mark as common" not in html


def test_a_confirmation_by_another_agency_is_not_shown(switchboard: dict, supervisor: Any) -> None:
    common = CommonKey.objects.get()
    url = reverse("cases:common_key_mark", kwargs={"key": common.uuid})
    assert client_for(switchboard["gt_user"]).post(url).status_code == 302
    html = client_for(supervisor).get(reverse("cases:common_keys")).content.decode()
    assert "Mark as common" in html
    assert switchboard["gt_user"].get_username() not in html


def test_the_key_of_a_protected_identity_is_not_shown_to_a_supervisor(
    settings: Any, supervisor: Any, investigator: Any, outsider: Any
) -> None:
    settings.CASEBOOK_HIT_KEY_LIMIT = 1
    make_entity(investigator, make_case(investigator), Entity.Kind.PHONE, role="victim")
    make_entity(outsider, make_case(outsider), Entity.Kind.PHONE, identifier=PHONE)
    guatemala = AgencyFactory.create(country=Country.objects.get(code="GT"))
    gt_user = make_member(guatemala, "investigator")
    other = make_entity(gt_user, make_case(gt_user), Entity.Kind.PHONE, identifier=PHONE)
    detect(other)
    assert CommonKey.objects.exists()
    html = client_for(supervisor).get(reverse("cases:common_keys")).content.decode()
    assert "+50761234567" not in html


# --- pages --------------------------------------------------------------------------------


def make_hits(investigator: Any, outsider: Any, count: int, start: int = 0) -> None:
    pa_case, cr_case = make_case(investigator), make_case(outsider)
    for n in range(start, start + count):
        phone = f"+507 6123 45{n:02d}"
        make_entity(investigator, pa_case, Entity.Kind.PHONE, identifier=phone)
        detect(make_entity(outsider, cr_case, Entity.Kind.PHONE, identifier=phone))


def test_hits_page_query_count_does_not_grow_with_the_hits(
    investigator: Any, outsider: Any
) -> None:
    client = client_for(investigator)
    url = reverse("cases:hits")
    make_hits(investigator, outsider, 1)
    client.get(url)  # warm the session and caches
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).content.decode().count("Dismiss</button>") == 1
    make_hits(investigator, outsider, 19, start=1)
    with CaptureQueriesContext(connection) as twenty:
        assert client.get(url).content.decode().count("Dismiss</button>") == 20
    assert len(twenty) == len(one)
    assert len(one) <= 11  # with the access-log row of the read


def test_hits_are_newest_first_and_paginated(investigator: Any, outsider: Any) -> None:
    make_hits(investigator, outsider, 27)
    first = client_for(investigator).get(reverse("cases:hits"))
    assert len(first.context["page"].object_list) == 25
    times = [hit.created_at for hit in first.context["page"].object_list]
    assert times == sorted(times, reverse=True)
    second = client_for(investigator).get(reverse("cases:hits") + "?page=2")
    assert len(second.context["page"].object_list) == 2
    assert client_for(investigator).get(reverse("cases:hits") + "?page=x").status_code == 200


def test_entity_add_page_runs_detection_and_notification_on_commit(
    investigator: Any, outsider: Any, pa_police: Agency, django_capture_on_commit_callbacks: Any
) -> None:
    theirs = make_entity(outsider, make_case(outsider), Entity.Kind.PHONE, identifier=PHONE)
    case = make_case(investigator)
    url = reverse("cases:entity_add", kwargs={"case": case.uuid, "kind": "phone"})
    data = {"role": "suspect", "identifier": "6123-4567", "identifier_country": "PA"}
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client_for(investigator).post(url, data)
    assert response.status_code == 302
    # Detection, then the notifications it queued (and the change event of the write).
    hit_work = [callback for callback in callbacks if callback.__module__ == "cases.services.hits"]
    assert len(hit_work) == 2
    mine = Entity.objects.get(case=case)
    assert len(pair_hits(mine, theirs)) == 1
    assert Notification.objects.filter(agency=pa_police, case=case).count() == 1


def test_the_task_takes_the_entity_id_and_is_idempotent(world: dict) -> None:
    from cases.tasks import hits_detect_task

    assert hits_detect_task.apply(args=(world["pa_phone"].pk,)).get() == 0
    assert Hit.objects.count() == 2


def test_detect_hits_command_finds_hits_the_tasks_missed(world: dict) -> None:
    from django.core.management import call_command

    Hit.objects.all().delete()
    call_command("detect_hits", verbosity=0)
    assert Hit.objects.count() == 2


# --- dashboard ----------------------------------------------------------------------------


def test_dashboard_shows_the_latest_hits_with_whom_to_contact_only(
    world: dict, investigator: Any, cr_police: Agency
) -> None:
    response = client_for(investigator).get(reverse("dashboard"))
    html = response.content.decode()
    assert "Cross-case hits" in html
    assert cr_police.name in html
    assert CR_CONTACT in html
    assert reverse("cases:hits") in html
    assert_no_cr_secret(html, world)


def test_dashboard_shows_five_hits_at_constant_query_count(
    investigator: Any, outsider: Any
) -> None:
    client = client_for(investigator)
    make_hits(investigator, outsider, 1)
    client.get(reverse("dashboard"))
    with CaptureQueriesContext(connection) as one:
        assert len(client.get(reverse("dashboard")).context["hits"]) == 1
    make_hits(investigator, outsider, 8, start=1)
    with CaptureQueriesContext(connection) as nine:
        assert len(client.get(reverse("dashboard")).context["hits"]) == 5
    assert len(nine) == len(one)


def test_the_plain_sql_of_detection_names_the_models_tables() -> None:
    from cases.models import MatchKey

    assert f'"{MatchKey._meta.db_table}"' in hits.KEY_HOLDERS_SQL
    assert f'"{Case._meta.db_table}"' in hits.KEY_HOLDERS_SQL
    assert f'"{CommonKey._meta.db_table}"' in hits.KEY_HOLDERS_SQL
