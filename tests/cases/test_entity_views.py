"""Entity pages: adding, showing, editing and removing the people, things and places of a case."""

import datetime
import re
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.db.models import Q
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases import services
from cases.models import Case, Entity, MatchKey, Relationship
from cases.selectors import case_access
from tests.conftest import client_for
from tests.factories import make_case, make_entity, make_member


def add_url(case: Case, kind: str) -> str:
    return reverse("cases:entity_add", kwargs={"case": case.uuid, "kind": kind})


def entity_url(entity: Entity, name: str = "cases:entity") -> str:
    return reverse(name, kwargs={"case": entity.case.uuid, "entity": entity.uuid})


def keys_of(entity: Entity) -> set[str]:
    return set(MatchKey.objects.filter(entity=entity).values_list("key", flat=True))


def field_tag(html: str, name: str) -> str:
    """The opening tag of the form control named ``name``."""
    match = re.search(rf'<(input|select|textarea)[^>]*name="{name}"[^>]*>', html)
    assert match, f"no control named {name}"
    return match.group(0)


def assert_error_next_to(response: Any, field: str, message: str) -> None:
    assert response.status_code == 200
    assert any(message in error for error in response.context["form"].errors[field])
    html = response.content.decode()
    assert "is-invalid" in field_tag(html, field)
    # The message is rendered right after the control, before the next field starts.
    after = html[html.index(field_tag(html, field)) :]
    next_field = after.find('<div class="mb-3">')
    assert message in (after[:next_field] if next_field != -1 else after)


# --- adding: one valid entity of every kind ----------------------------------------------

VALID = [
    (
        Entity.Kind.PERSON,
        {
            "role": "suspect",
            "name": "José María Pérez",
            "aliases": "El Coyote\nJosé P.",
            "birth_date": "1985-04-12",
            "nationality": "CO",
        },
        {"name:jose maria perez|1985-04-12", "name:coyote el|1985-04-12", "name:jose p|1985-04-12"},
    ),
    (
        Entity.Kind.ORGANISATION,
        {"role": "facilitator", "name": "Transportes Darién S.A."},
        {"name:org:a darien s transportes"},
    ),
    (
        Entity.Kind.PHONE,
        {"role": "suspect", "identifier": "6123-4567", "identifier_country": "PA"},
        {"phone:+50761234567"},
    ),
    (
        Entity.Kind.VEHICLE,
        {
            "role": "transporter",
            "name": "white Toyota Hilux",
            "subtype": "pickup",
            "identifier": "ab-1234",
            "identifier_country": "PA",
        },
        {"plate:PA:AB1234"},
    ),
    (
        Entity.Kind.ACCOUNT,
        {
            "role": "financier",
            "subtype": "iban",
            "identifier": "CR05 0152 0200 1026 2840 66",
            "identifier_country": "CR",
        },
        {"account:IBAN:CR05015202001026284066"},
    ),
    (
        Entity.Kind.DOCUMENT,
        {
            "role": "suspect",
            "subtype": "national_id",
            "identifier": "1-0234-0567",
            "identifier_country": "CR",
        },
        {"document:CR:0102340567"},
    ),
    (
        Entity.Kind.ONLINE,
        {"role": "recruiter", "subtype": "email", "identifier": "Coyote.Darien@Example.org"},
        {"email:coyote.darien@example.org"},
    ),
    (
        Entity.Kind.LOCATION,
        {
            "role": "other",
            "name": "Bajo Chiquito",
            "subtype": "camp",
            "identifier_country": "PA",
            "latitude": "8.4125",
            "longitude": "-77.4631",
        },
        set(),
    ),
]


@pytest.mark.parametrize(("kind", "data", "keys"), VALID, ids=[row[0] for row in VALID])
def test_investigator_adds_a_valid_entity_of_every_kind_with_its_match_keys(
    investigator: Any, case: Case, kind: str, data: dict[str, str], keys: set[str]
) -> None:
    client = client_for(investigator)
    page = client.get(add_url(case, kind))
    assert page.status_code == 200
    assert set(data) <= set(page.context["form"].fields)

    response = client.post(add_url(case, kind), {**data, "description": "Seen at the border."})

    assert response.status_code == 302
    assert response["Location"] == reverse("cases:detail", kwargs={"case": case.uuid}) + "#entities"
    entity = Entity.objects.get(case=case)
    assert entity.kind == kind
    assert entity.created_by == investigator
    assert entity.description == "Seen at the border."
    assert keys_of(entity) == keys


def test_a_location_keeps_its_coordinates_and_kind(investigator: Any, case: Case) -> None:
    data = dict(VALID[-1][1])
    client_for(investigator).post(add_url(case, Entity.Kind.LOCATION), data)
    place = Entity.objects.get(case=case)
    assert (place.latitude, place.longitude) == (Decimal("8.412500"), Decimal("-77.463100"))
    assert place.subtype == Entity.LocationKind.CAMP


def test_gps_coordinates_with_many_decimals_are_rounded_not_refused(
    investigator: Any, case: Case
) -> None:
    data = {**VALID[-1][1], "latitude": "8.41251234567", "longitude": "-77.46319876543"}
    response = client_for(investigator).post(add_url(case, Entity.Kind.LOCATION), data)
    assert response.status_code == 302
    place = Entity.objects.get(case=case)
    assert place.latitude == Decimal("8.412512")


def test_each_kind_shows_only_its_own_fields_with_its_own_labels(
    investigator: Any, case: Case
) -> None:
    client = client_for(investigator)
    phone = client.get(add_url(case, Entity.Kind.PHONE)).context["form"]
    assert list(phone.fields) == [
        "role",
        "identifier",
        "identifier_country",
        "holder",
        "description",
    ]
    assert phone.fields["identifier"].label == "Phone number"
    assert phone.fields["identifier_country"].label == "Region"
    assert phone.initial["identifier_country"] == "PA"

    document = client.get(add_url(case, Entity.Kind.DOCUMENT)).context["form"]
    assert document.fields["identifier"].label == "Document number"
    assert document.fields["identifier_country"].label == "Issuing country"
    assert document.fields["identifier_country"].required

    vehicle = client.get(add_url(case, Entity.Kind.VEHICLE)).context["form"]
    assert vehicle.fields["identifier"].label == "Plate"

    person = client.get(add_url(case, Entity.Kind.PERSON))
    assert "latitude" not in person.context["form"].fields
    assert "identifier" not in person.context["form"].fields
    # Any country, not only the member states, by name.
    assert '<option value="SY">Syria</option>' in person.content.decode()


def test_unknown_kind_is_404(investigator: Any, case: Case) -> None:
    assert client_for(investigator).get(add_url(case, "spaceship")).status_code == 404


def test_required_identifier_is_asked_for(investigator: Any, case: Case) -> None:
    response = client_for(investigator).post(
        add_url(case, Entity.Kind.PHONE), {"role": "suspect", "identifier_country": "PA"}
    )
    assert_error_next_to(response, "identifier", "This field is required.")
    assert Entity.objects.count() == 0


# --- bad input: an error next to the field, nothing stored --------------------------------

INVALID = [
    (
        "phone_for_the_country",
        Entity.Kind.PHONE,
        {"role": "suspect", "identifier": "1234", "identifier_country": "PA"},
        "identifier",
        "This is not a valid phone number for Panama.",
    ),
    (
        "iban_checksum",
        Entity.Kind.ACCOUNT,
        {
            "role": "financier",
            "subtype": "iban",
            "identifier": "CR05 0152 0200 1026 2840 67",
            "identifier_country": "CR",
        },
        "identifier",
        "This is not a valid IBAN",
    ),
    (
        "costa_rican_cedula",
        Entity.Kind.DOCUMENT,
        {
            "role": "suspect",
            "subtype": "national_id",
            "identifier": "1-2345-67890",
            "identifier_country": "CR",
        },
        "identifier",
        "This is not a valid Costa Rican cédula de identidad",
    ),
    (
        "mexican_curp_check_digit",
        Entity.Kind.DOCUMENT,
        {
            "role": "suspect",
            "subtype": "national_id",
            "identifier": "BOXW310820HNERXN08",
            "identifier_country": "MX",
        },
        "identifier",
        "This is not a valid Mexican CURP",
    ),
    (
        "bank_account_without_country",
        Entity.Kind.ACCOUNT,
        {"role": "financier", "subtype": "bank_account", "identifier": "04-123456-7"},
        "identifier_country",
        "Choose the issuing country.",
    ),
    (
        "latitude_over_90",
        Entity.Kind.LOCATION,
        {
            "role": "other",
            "name": "Somewhere",
            "subtype": "city",
            "latitude": "91",
            "longitude": "-77",
        },
        "latitude",
        "Latitude must be between -90 and 90 degrees.",
    ),
    (
        "longitude_under_minus_180",
        Entity.Kind.LOCATION,
        {
            "role": "other",
            "name": "Somewhere",
            "subtype": "city",
            "latitude": "8",
            "longitude": "-180.5",
        },
        "longitude",
        "Longitude must be between -180 and 180 degrees.",
    ),
    (
        "latitude_without_longitude",
        Entity.Kind.LOCATION,
        {"role": "other", "name": "Somewhere", "subtype": "city", "latitude": "8"},
        "longitude",
        "Enter both latitude and longitude, or neither.",
    ),
    (
        "vehicle_without_description_or_plate",
        Entity.Kind.VEHICLE,
        {"role": "transporter", "subtype": "truck", "identifier_country": "PA"},
        "name",
        "Describe the vehicle or enter its plate.",
    ),
    (
        "unknown_country",
        Entity.Kind.PERSON,
        {"role": "suspect", "name": "Ana", "nationality": "ZZ"},
        "nationality",
        "Select a valid choice.",
    ),
]


@pytest.mark.parametrize(
    ("label", "kind", "data", "field", "message"), INVALID, ids=[row[0] for row in INVALID]
)
def test_bad_input_shows_an_error_next_to_the_field_and_stores_nothing(
    investigator: Any, case: Case, label: str, kind: str, data: dict, field: str, message: str
) -> None:
    response = client_for(investigator).post(add_url(case, kind), data)
    assert_error_next_to(response, field, message)
    assert Entity.objects.count() == 0
    assert MatchKey.objects.count() == 0


def test_birth_date_in_the_future_is_refused(investigator: Any, case: Case) -> None:
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = client_for(investigator).post(
        add_url(case, Entity.Kind.PERSON),
        {"role": "victim", "name": "Ana Gómez", "birth_date": tomorrow.isoformat()},
    )
    assert_error_next_to(response, "birth_date", "A birth date cannot be in the future.")
    assert Entity.objects.count() == 0


def test_holder_from_another_case_is_refused(investigator: Any, case: Case) -> None:
    other_case = make_case(investigator, title="Another case of the same agency")
    stranger = make_entity(investigator, other_case, Entity.Kind.PERSON, name="Pedro Ruiz")
    before = Entity.objects.count()
    client = client_for(investigator)
    data = {"role": "suspect", "identifier": "6123-4567", "identifier_country": "PA"}
    for posted in (str(stranger.uuid), str(stranger.pk)):
        response = client.post(add_url(case, Entity.Kind.PHONE), {**data, "holder": posted})
        assert_error_next_to(response, "holder", "Select a valid choice.")
    assert Entity.objects.count() == before


def test_holder_choices_are_the_persons_and_organisations_of_the_case(
    investigator: Any, case: Case
) -> None:
    person = make_entity(investigator, case, Entity.Kind.PERSON, name="Pedro Ruiz")
    make_entity(investigator, case, Entity.Kind.PHONE)
    make_entity(investigator, make_case(investigator), Entity.Kind.PERSON, name="Elsewhere")
    client = client_for(investigator)
    form = client.get(add_url(case, Entity.Kind.PHONE)).context["form"]
    assert list(form.fields["holder"].queryset) == [person]

    data = {"role": "suspect", "identifier": "+507 6123 4567", "holder": str(person.uuid)}
    assert client.post(add_url(case, Entity.Kind.PHONE), data).status_code == 302
    phone = Entity.objects.get(case=case, kind=Entity.Kind.PHONE, holder__isnull=False)
    assert phone.holder == person


# --- permissions ----------------------------------------------------------------------------


def test_outsider_gets_404_everywhere(outsider: Any, investigator: Any, case: Case) -> None:
    entity = make_entity(investigator, case)
    client = client_for(outsider)
    assert client.get(add_url(case, Entity.Kind.PERSON)).status_code == 404
    assert (
        client.post(add_url(case, Entity.Kind.PERSON), {"role": "suspect", "name": "X"}).status_code
        == 404
    )
    for name in ("cases:entity", "cases:entity_edit", "cases:entity_remove"):
        assert client.get(entity_url(entity, name)).status_code == 404
    assert client.post(entity_url(entity, "cases:entity_remove")).status_code == 404
    assert Entity.objects.filter(pk=entity.pk).exists()


def test_analyst_reads_but_gets_403_on_add_edit_and_remove(
    analyst: Any, investigator: Any, case: Case
) -> None:
    entity = make_entity(investigator, case)
    client = client_for(analyst)
    detail = client.get(entity_url(entity))
    assert detail.status_code == 200
    assert entity_url(entity, "cases:entity_edit") not in detail.content.decode()
    assert client.get(add_url(case, Entity.Kind.PERSON)).status_code == 403
    data = {"role": "suspect", "name": "Someone"}
    assert client.post(add_url(case, Entity.Kind.PERSON), data).status_code == 403
    assert client.get(entity_url(entity, "cases:entity_edit")).status_code == 403
    assert client.post(entity_url(entity, "cases:entity_edit"), data).status_code == 403
    assert client.get(entity_url(entity, "cases:entity_remove")).status_code == 403
    assert client.post(entity_url(entity, "cases:entity_remove")).status_code == 403
    assert Entity.objects.get(pk=entity.pk).name == "José Pérez"


def test_anonymous_visitor_is_sent_to_log_in(investigator: Any, case: Case) -> None:
    entity = make_entity(investigator, case)
    response = Client().get(entity_url(entity))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_entity_of_another_case_is_404_under_this_case(investigator: Any, case: Case) -> None:
    other = make_entity(investigator, make_case(investigator))
    url = reverse("cases:entity", kwargs={"case": case.uuid, "entity": other.uuid})
    assert client_for(investigator).get(url).status_code == 404


# --- detail ---------------------------------------------------------------------------------


def test_detail_shows_fields_holder_holdings_relationships_movements_and_identifiers(
    investigator: Any, case: Case
) -> None:
    person = make_entity(
        investigator, case, Entity.Kind.PERSON, name="José Pérez", nationality="CO",
        birth_date=datetime.date(1985, 4, 12),
    )  # fmt: skip
    phone = make_entity(investigator, case, Entity.Kind.PHONE, holder=person)
    victim = make_entity(investigator, case, Entity.Kind.PERSON, name="Ana Gómez", role="victim")
    services.relationship_add(
        access=case_access(investigator, case), source=person, target=victim, kind="recruits"
    )
    services.relationship_add(
        access=case_access(investigator, case), source=victim, target=person, kind="pays"
    )
    origin = make_entity(investigator, case, Entity.Kind.LOCATION, name="Capurganá")
    destination = make_entity(investigator, case, Entity.Kind.LOCATION, name="Bajo Chiquito")
    services.movement_add(
        access=case_access(investigator, case), origin=origin, destination=destination,
        moved_on=datetime.date(2026, 2, 1), means="foot", people_count=12, facilitators=[person],
    )  # fmt: skip

    response = client_for(investigator).get(entity_url(person))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Colombia" in html
    assert "is a member of" not in html
    assert "recruits" in html and "pays" in html
    assert entity_url(phone) in html  # what it holds
    assert entity_url(victim) in html
    assert "protected" in html  # the victim, through the entity partial
    assert "Capurganá" in html and "Bajo Chiquito" in html
    assert "jose perez|1985-04-12" in html
    assert entity_url(person, "cases:entity_edit") in html
    assert entity_url(person, "cases:entity_remove") in html
    assert investigator.get_full_name() in html

    phone_page = client_for(investigator).get(entity_url(phone)).content.decode()
    assert entity_url(person) in phone_page  # its holder
    assert "+50761234567" in phone_page


def test_detail_lists_only_this_entitys_identifiers_not_other_cases(
    investigator: Any, outsider: Any, case: Case
) -> None:
    phone = make_entity(investigator, case, Entity.Kind.PHONE)
    cr_case = make_case(outsider, title="Costa Rican case")
    make_entity(outsider, cr_case, Entity.Kind.PHONE, identifier="+507 6123 4567")
    response = client_for(investigator).get(entity_url(phone))
    assert response.context["identifiers"] == [("Phone", "+50761234567")]
    assert "Costa Rican case" not in response.content.decode()
    assert cr_case.reference not in response.content.decode()


def test_detail_query_count_does_not_grow_with_relationships(
    investigator: Any, case: Case, django_assert_max_num_queries: Any
) -> None:
    origin = make_entity(investigator, case, Entity.Kind.LOCATION, name="Capurganá")
    destination = make_entity(investigator, case, Entity.Kind.LOCATION, name="Bajo Chiquito")

    def detail_queries(entity: Entity, links: int) -> int:
        for n in range(links):
            partner = make_entity(investigator, case, Entity.Kind.PERSON, name=f"Partner {n}")
            source, target = (entity, partner) if n % 2 else (partner, entity)
            services.relationship_add(
                access=case_access(investigator, case), source=source, target=target, kind="pays"
            )
            make_entity(investigator, case, Entity.Kind.PHONE, holder=entity,
                        identifier=f"+507 6123 {4000 + n}")  # fmt: skip
            services.movement_add(
                access=case_access(investigator, case), origin=origin, destination=destination,
                moved_on=datetime.date(2026, 2, 1), means="foot", people_count=n + 1,
                facilitators=[entity, partner],
            )  # fmt: skip
        client = client_for(investigator)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(entity_url(entity)).status_code == 200
        return len(queries)

    one = detail_queries(make_entity(investigator, case, name="One"), 1)
    thirty = detail_queries(make_entity(investigator, case, name="Thirty"), 30)
    assert one == thirty
    busy = Entity.objects.get(name="Thirty")
    assert Relationship.objects.filter(Q(source=busy) | Q(target=busy)).count() == 30
    client = client_for(investigator)
    # 18 = 14 for the page + 1 INSERT of its access-log row + 1 count of unread
    # notifications (navigation bar) + 2 for cross-case matches (links and hits) + 1 for the
    # agency's groups (read once per request by cases.selectors).
    with django_assert_max_num_queries(19):
        response = client.get(entity_url(busy))
    assert len(response.context["movements"]) == 30


# --- edit -----------------------------------------------------------------------------------


def test_edit_form_is_prefilled_and_kind_cannot_change(investigator: Any, case: Case) -> None:
    holder = make_entity(investigator, case, Entity.Kind.PERSON, name="Pedro Ruiz")
    phone = make_entity(investigator, case, Entity.Kind.PHONE, holder=holder)
    form = client_for(investigator).get(entity_url(phone, "cases:entity_edit")).context["form"]
    assert form["identifier"].value() == "+507 6123 4567"
    assert "kind" not in form.fields
    html = str(form["holder"])
    assert f'<option value="{holder.uuid}" selected>' in html
    assert phone.uuid.hex not in html.replace("-", "")  # it cannot hold itself
    response = client_for(investigator).post(
        entity_url(phone, "cases:entity_edit"),
        {"role": "suspect", "identifier": "+507 6123 4567", "identifier_country": "PA",
         "holder": str(holder.uuid), "kind": "person"},
    )  # fmt: skip
    assert response.status_code == 302
    phone.refresh_from_db()
    assert phone.kind == Entity.Kind.PHONE


def test_edit_writes_history_with_the_editor_and_old_and_new_values(
    investigator: Any, pa_police: Any, case: Case
) -> None:
    person = make_entity(investigator, case, name="José Pérez")
    colleague = make_member(pa_police, "investigator", username="inv2.pa")
    response = client_for(colleague).post(
        entity_url(person, "cases:entity_edit"),
        {"role": "recruiter", "name": "José Antonio Pérez", "nationality": "PA"},
    )
    assert response.status_code == 302
    assert response["Location"] == entity_url(person)
    latest, previous = person.history.all()[:2]
    assert latest.history_user == colleague
    changes = {c.field: (c.old, c.new) for c in latest.diff_against(previous).changes}
    assert changes["name"] == ("José Pérez", "José Antonio Pérez")
    assert changes["role"] == ("suspect", "recruiter")
    assert keys_of(person) == {"name:antonio jose perez"}


def test_failed_edit_changes_nothing(investigator: Any, case: Case) -> None:
    phone = make_entity(investigator, case, Entity.Kind.PHONE)
    history_before = phone.history.count()
    response = client_for(investigator).post(
        entity_url(phone, "cases:entity_edit"),
        {"role": "suspect", "identifier": "999", "identifier_country": "PA"},
    )
    assert_error_next_to(response, "identifier", "This is not a valid phone number for Panama.")
    # The heading shows what is stored, not what was typed.
    assert "+507 6123 4567" in response.content.decode()
    phone.refresh_from_db()
    assert phone.identifier == "+507 6123 4567"
    assert phone.history.count() == history_before
    assert keys_of(phone) == {"phone:+50761234567"}


def test_saving_an_unchanged_form_writes_no_history(investigator: Any, case: Case) -> None:
    place = make_entity(investigator, case, Entity.Kind.LOCATION, latitude=Decimal("8.4125"),
                        longitude=Decimal("-77.4631"))  # fmt: skip
    data = {"role": "other", "name": "Bajo Chiquito", "subtype": "camp",
            "identifier_country": "PA", "latitude": "8.4125", "longitude": "-77.4631"}  # fmt: skip
    response = client_for(investigator).post(entity_url(place, "cases:entity_edit"), data)
    assert response.status_code == 302
    assert place.history.count() == 1


# --- remove ---------------------------------------------------------------------------------


def test_remove_asks_for_confirmation_listing_the_relationships(
    investigator: Any, case: Case
) -> None:
    person = make_entity(investigator, case, name="José Pérez")
    partner = make_entity(investigator, case, name="Luis Mora")
    services.relationship_add(
        access=case_access(investigator, case), source=partner, target=person, kind="employs"
    )
    response = client_for(investigator).get(entity_url(person, "cases:entity_remove"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "employs" in html and "Luis Mora" in html
    assert Entity.objects.filter(pk=person.pk).exists()


def test_remove_deletes_the_entity_with_its_relationships(investigator: Any, case: Case) -> None:
    person = make_entity(investigator, case, name="José Pérez")
    partner = make_entity(investigator, case, name="Luis Mora")
    phone = make_entity(investigator, case, Entity.Kind.PHONE, holder=person)
    services.relationship_add(
        access=case_access(investigator, case), source=person, target=partner, kind="pays"
    )
    services.relationship_add(
        access=case_access(investigator, case), source=partner, target=person, kind="employs"
    )
    response = client_for(investigator).post(entity_url(person, "cases:entity_remove"))
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:detail", kwargs={"case": case.uuid}) + "#entities"
    assert not Entity.objects.filter(pk=person.pk).exists()
    assert Relationship.objects.count() == 0
    assert MatchKey.objects.filter(entity_id=person.pk).count() == 0
    phone.refresh_from_db()
    assert phone.holder is None
    assert person.history.first().history_type == "-"
    assert person.history.first().history_user == investigator


def test_removing_a_location_used_by_a_movement_is_refused(investigator: Any, case: Case) -> None:
    origin = make_entity(investigator, case, Entity.Kind.LOCATION, name="Capurganá")
    destination = make_entity(investigator, case, Entity.Kind.LOCATION, name="Bajo Chiquito")
    services.movement_add(
        access=case_access(investigator, case), origin=origin, destination=destination,
        moved_on=datetime.date(2026, 2, 1), means="foot", people_count=12,
    )  # fmt: skip
    client = client_for(investigator)
    confirm = client.get(entity_url(origin, "cases:entity_remove"))
    assert "remove the movements first" in confirm.content.decode().lower()

    response = client.post(entity_url(origin, "cases:entity_remove"), follow=True)

    assert response.redirect_chain[-1][0] == entity_url(origin)
    assert "remove the movement first" in response.content.decode()
    assert Entity.objects.filter(pk=origin.pk).exists()


def test_remove_is_only_by_post_with_a_csrf_token(investigator: Any, case: Case) -> None:
    person = make_entity(investigator, case)
    client = Client(enforce_csrf_checks=True)
    client.force_login(investigator)
    assert client.get(entity_url(person, "cases:entity_remove")).status_code == 200
    assert client.post(entity_url(person, "cases:entity_remove")).status_code == 403
    assert Entity.objects.filter(pk=person.pk).exists()
    other_methods = client_for(investigator)
    assert other_methods.delete(entity_url(person, "cases:entity_remove")).status_code == 405
    assert other_methods.put(entity_url(person)).status_code == 405
