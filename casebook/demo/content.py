"""What a case contains, as plain data (plans), and writing a plan through the services as a
user would. The demo and the synthetic generator both plan their cases here."""

import datetime
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone

from casebook.demo.identifiers import (
    ALIASES,
    CHINESE_NAMES,
    FEMALE_NAMES,
    HAITIAN_FIRST,
    HAITIAN_LAST,
    IBAN_BBAN_FORMATS,
    MALE_NAMES,
    MIGRANT_NATIONALITIES,
    NATIONAL_ID_FORMATS,
    ONLINE_HANDLES,
    ORGANISATIONS,
    SURNAMES,
    fill_pattern,
    iban_number,
    passport_number,
    phone_number,
    plate_number,
)
from casebook.demo.places import LEG_MEANS, PLACES, group_size
from cases import selectors, services
from cases.models import Case, Entity, Movement, Relationship

# Demo dates stay before this day (and before today), so the demo is the same every time.
LAST_DEMO_DAY = datetime.date(2026, 9, 30)
FIRST_DEMO_DAY = datetime.date(2023, 2, 1)

Kind = Entity.Kind
Role = Entity.Role
Means = Movement.Means


@dataclass
class EntityPlan:
    kind: str
    values: dict[str, Any]
    holder: int | None = None  # index of an earlier person or organisation of the plan
    ref: str = ""  # a name other extras of the same case refer to
    holder_ref: str = ""  # for extras: the ``ref`` of their holder


@dataclass
class RelationshipPlan:
    source: int
    target: int
    kind: str
    started_on: datetime.date | None
    evidence_note: str
    source_reliability: str
    information_assessment: str


@dataclass
class MovementPlan:
    origin: int
    destination: int
    moved_on: datetime.date
    means: str
    people_count: int
    facilitators: tuple[int, ...]
    description: str


@dataclass
class NotePlan:
    noted_on: datetime.date
    body: str


@dataclass
class ContentPlan:
    entities: list[EntityPlan] = field(default_factory=list)
    relationships: list[RelationshipPlan] = field(default_factory=list)
    movements: list[MovementPlan] = field(default_factory=list)
    notes: list[NotePlan] = field(default_factory=list)

    def add(self, plan: EntityPlan) -> int:
        self.entities.append(plan)
        return len(self.entities) - 1

    def relate(self, rng: random.Random, source: int, target: int, kind: str, on: Any) -> None:
        reliability, assessment = rng.choice(GRADINGS)
        self.relationships.append(
            RelationshipPlan(
                source, target, kind, on, rng.choice(EVIDENCE_NOTES), reliability, assessment
            )
        )


# Europol 4x4 gradings, weighted towards what police files mostly hold.
GRADINGS = (
    ("B", "2"), ("B", "2"), ("A", "1"), ("B", "3"), ("B", "3"), ("C", "3"),
    ("X", "4"), ("B", "1"), ("C", "4"), ("A", "2"),
)  # fmt: skip
EVIDENCE_NOTES = (
    "Call records obtained with a court order.",
    "Statement of a migrant interviewed at the reception station.",
    "Messages found on a seized phone.",
    "Surveillance by the border unit.",
    "Money transfer receipts.",
    "Informant report, not corroborated.",
    "Statement of the boat's crew.",
)
NOTE_TEMPLATES = (
    "Interview with {victim}: paid USD {amount} to {suspect} for the crossing to {place}.",
    "Request for subscriber data and call records of {phone} sent to the operator.",
    "Coordination call with the liaison of the neighbouring country about {place}.",
    "{suspect} seen again at {place}; surveillance continues.",
    "Search of a house near {place}: phones and cash seized (USD {amount}).",
    "The prosecutor asked for the financial analysis of the transfers to {suspect}.",
)
SMUGGLING_ROLES = (Role.TRANSPORTER, Role.FACILITATOR, Role.SUSPECT, Role.FINANCIER, Role.SUSPECT)
TRAFFICKING_ROLES = (Role.RECRUITER, Role.SUSPECT, Role.FINANCIER, Role.FACILITATOR)


def random_day(rng: random.Random, start: datetime.date, end: datetime.date) -> datetime.date:
    """A day from ``start`` to ``end`` included, never after today."""
    end = min(end, timezone.localdate())
    if end <= start:
        return end
    return start + datetime.timedelta(days=rng.randrange((end - start).days + 1))


def clamp_to_today(day: datetime.date) -> datetime.date:
    """``day``, or today if ``day`` is later: nothing of the demo happens in the future."""
    return min(day, timezone.localdate())


def _person_name(rng: random.Random, nationality: str, *, female: bool | None = None) -> str:
    if nationality == "HT":
        return f"{rng.choice(HAITIAN_FIRST)} {rng.choice(HAITIAN_LAST)}"
    if nationality == "CN":
        return rng.choice(CHINESE_NAMES)
    female = rng.random() < 0.4 if female is None else female
    first = rng.choice(FEMALE_NAMES if female else MALE_NAMES)
    return f"{first} {rng.choice(SURNAMES)} {rng.choice(SURNAMES)}"


def _birth_date(rng: random.Random, youngest: int = 19, oldest: int = 58) -> datetime.date:
    start = datetime.date(LAST_DEMO_DAY.year - oldest, 1, 1)
    end = datetime.date(LAST_DEMO_DAY.year - youngest, 12, 31)
    return random_day(rng, start, end)


def _location(place_key: str) -> EntityPlan:
    place = PLACES[place_key]
    return EntityPlan(
        Kind.LOCATION,
        {
            "role": Role.OTHER,
            "name": place.name,
            "subtype": place.kind,
            "identifier_country": place.country,
            "latitude": Decimal(f"{place.latitude:.3f}"),
            "longitude": Decimal(f"{place.longitude:.3f}"),
        },
        ref=place_key,
    )


def plan_content(
    rng: random.Random,
    *,
    kind: str,
    country: str,
    route: Sequence[str],
    opened_on: datetime.date,
    suspects: int,
    victims: int,
    extras: Sequence[EntityPlan] = (),
    max_legs: int = 10,
    notes: int = 1,
    aliases: bool = True,
) -> ContentPlan:
    """People, identifiers, places, links, movements and notes of one case, as plain data.

    ``extras`` (deliberately shared identifiers) are added first, as given; an extra's
    holder is named by ``holder_ref``.
    """
    plan = ContentPlan()
    trafficking = kind == Case.Kind.TRAFFICKING
    roles = TRAFFICKING_ROLES if trafficking else SMUGGLING_ROLES
    operating = [country, "CO"] if country != "CO" else ["CO", "PA"]

    refs: dict[str, int] = {}
    for extra in extras:
        holder = refs[extra.holder_ref] if extra.holder_ref else None
        refs[extra.ref or f"#{len(refs)}"] = plan.add(
            EntityPlan(extra.kind, dict(extra.values), holder)
        )
    suspect_ids = [i for i, e in enumerate(plan.entities) if e.kind == Kind.PERSON]
    for _ in range(suspects):
        nationality = rng.choice(operating)
        values: dict[str, Any] = {
            "role": rng.choice(roles),
            "name": _person_name(rng, nationality),
            "nationality": nationality,
            "birth_date": _birth_date(rng) if rng.random() < 0.7 else None,
        }
        if aliases and rng.random() < 0.2:
            values["aliases"] = rng.choice(ALIASES)
        suspect_ids.append(plan.add(EntityPlan(Kind.PERSON, values)))
    victim_ids = []
    for _ in range(victims):
        nationality = rng.choice(MIGRANT_NATIONALITIES)
        role = Role.VICTIM if trafficking or rng.random() < 0.3 else Role.WITNESS
        person = EntityPlan(
            Kind.PERSON,
            {
                "role": role,
                "name": _person_name(rng, nationality, female=True if trafficking else None),
                "nationality": nationality,
                "birth_date": _birth_date(rng, 16, 45),
            },
        )
        victim_ids.append(plan.add(person))
    # A shared organisation given as an extra plays the part of the case's organisation.
    organisation = next(
        (i for i, item in enumerate(plan.entities) if item.kind == Kind.ORGANISATION), None
    )
    if organisation is None and rng.random() < 0.4:
        org_country = country if country in ORGANISATIONS else "CO"
        organisation = plan.add(
            EntityPlan(
                Kind.ORGANISATION,
                {"role": Role.FACILITATOR, "name": rng.choice(ORGANISATIONS[org_country])},
            )
        )
    places = [plan.add(_location(key)) for key in route]

    phones = []
    for suspect in suspect_ids[:3]:
        if rng.random() < 0.75:
            phone_country = plan.entities[suspect].values.get("nationality") or country
            values = {
                "role": plan.entities[suspect].values["role"],
                "identifier": phone_number(rng, phone_country),
                "identifier_country": phone_country,
            }
            phones.append(plan.add(EntityPlan(Kind.PHONE, values, holder=suspect)))
    carrier = rng.choice(suspect_ids + victim_ids)
    carrier_country = plan.entities[carrier].values.get("nationality") or country
    if carrier_country == "CR" and rng.random() < 0.5:
        subtype = "national_id"  # the cédula, whose format stdnum checks
        number = f"{rng.randint(1, 7)}-{rng.randrange(10000):04d}-{rng.randrange(10000):04d}"
    elif carrier_country in NATIONAL_ID_FORMATS and rng.random() < 0.4:
        subtype, number = "national_id", fill_pattern(rng, NATIONAL_ID_FORMATS[carrier_country])
    else:
        subtype, number = "passport", passport_number(rng, carrier_country)
    plan.add(
        EntityPlan(
            Kind.DOCUMENT,
            {
                "role": plan.entities[carrier].values["role"],
                "subtype": subtype,
                "identifier": number,
                "identifier_country": carrier_country,
            },
            holder=carrier,
        )
    )
    if rng.random() < 0.5 and suspect_ids:
        legs = list(zip(route, route[1:], strict=False))
        boat = any(LEG_MEANS.get(leg) == Means.BOAT for leg in legs)
        vehicle_type = "boat" if boat else rng.choice(("bus", "van", "pickup", "truck", "car"))
        driver = suspect_ids[-1]
        name = (
            f"Lancha «{rng.choice(('Bendición de Dios', 'La Morena', 'Mi Reina', 'El Tiburón'))}»"
        )
        values = {
            "role": Role.TRANSPORTER,
            "subtype": vehicle_type,
            "name": name if boat else "",
            "identifier": plate_number(rng, country),
            "identifier_country": country,
        }
        vehicle = plan.add(EntityPlan(Kind.VEHICLE, values, holder=driver))
        plan.relate(rng, driver, vehicle, Relationship.Kind.OWNS, None)
    if rng.random() < 0.35 and suspect_ids:
        financier = suspect_ids[0]
        if country in IBAN_BBAN_FORMATS:
            values = {"subtype": "iban", "identifier": iban_number(rng, country)}
        else:
            account = fill_pattern(rng, "##########" + "#" * rng.randrange(5))
            values = {"subtype": "bank_account", "identifier": account}
        values.update(role=Role.FINANCIER, identifier_country=country)
        plan.add(EntityPlan(Kind.ACCOUNT, values, holder=financier))
    if rng.random() < 0.3 and suspect_ids:
        platform, handle = rng.choice(ONLINE_HANDLES)
        values = {"role": Role.RECRUITER, "subtype": platform, "identifier": handle}
        plan.add(EntityPlan(Kind.ONLINE, values, holder=suspect_ids[0]))

    # Links: the suspects talk to each other; they recruit, carry and are paid by the people
    # moved; the organisation employs one of them.
    start = opened_on - datetime.timedelta(days=rng.randint(20, 200))
    for a, b in zip(suspect_ids, suspect_ids[1:], strict=False):
        plan.relate(rng, a, b, Relationship.Kind.COMMUNICATES, random_day(rng, start, opened_on))
    for victim in victim_ids:
        if not suspect_ids:
            break
        suspect = rng.choice(suspect_ids)
        relation = Relationship.Kind.RECRUITS if trafficking else Relationship.Kind.TRANSPORTS
        plan.relate(rng, suspect, victim, relation, random_day(rng, start, opened_on))
        if rng.random() < 0.5:
            plan.relate(
                rng, victim, suspect, Relationship.Kind.PAYS, random_day(rng, start, opened_on)
            )
    if organisation is not None and suspect_ids:
        plan.relate(rng, organisation, suspect_ids[-1], Relationship.Kind.EMPLOYS, None)
    if len(victim_ids) > 1:
        plan.relate(rng, victim_ids[0], victim_ids[1], Relationship.Kind.TRAVELS_WITH, None)

    moved_on = start
    for leg, (origin, destination) in enumerate(zip(places, places[1:], strict=False)):
        if leg >= max_legs:
            break
        keys = (route[leg], route[leg + 1])
        moved_on = min(moved_on + datetime.timedelta(days=rng.randint(1, 6)), opened_on)
        facilitators = tuple(rng.sample(suspect_ids, k=min(len(suspect_ids), rng.randint(0, 2))))
        plan.movements.append(
            MovementPlan(
                origin,
                destination,
                moved_on,
                LEG_MEANS.get(keys, Means.BUS),
                group_size(rng, moved_on.year),
                facilitators,
                f"Group moved from {PLACES[keys[0]].name} to {PLACES[keys[1]].name}.",
            )
        )
    for _ in range(notes):
        values = {
            "victim": "a migrant",
            "suspect": plan.entities[suspect_ids[0]].values["name"] if suspect_ids else "a guide",
            "phone": plan.entities[phones[0]].values["identifier"] if phones else "the number",
            "place": PLACES[rng.choice(route)].name if route else "the border",
            "amount": rng.choice((150, 300, 450, 500, 800, 1200, 2500)),
        }
        body = rng.choice(NOTE_TEMPLATES).format(**values)
        plan.notes.append(NotePlan(random_day(rng, opened_on, LAST_DEMO_DAY), body))
    return plan


def write_plan(*, actor: User, case: Case, plan: ContentPlan) -> list[Entity]:
    """Write a plan through the services, as a user would (``actor`` must be allowed to
    contribute to ``case``). Returns the entities."""
    access = selectors.case_access(actor, case)
    entities: list[Entity] = []
    for item in plan.entities:
        values = dict(item.values)
        if item.holder is not None:
            values["holder"] = entities[item.holder]
        entities.append(services.entity_add(access=access, kind=item.kind, **values))
    for rel in plan.relationships:
        services.relationship_add(
            access=access,
            source=entities[rel.source],
            target=entities[rel.target],
            kind=rel.kind,
            started_on=rel.started_on,
            evidence_note=rel.evidence_note,
            source_reliability=rel.source_reliability,
            information_assessment=rel.information_assessment,
        )
    for move in plan.movements:
        services.movement_add(
            access=access,
            origin=entities[move.origin],
            destination=entities[move.destination],
            moved_on=move.moved_on,
            means=move.means,
            people_count=move.people_count,
            facilitators=[entities[i] for i in move.facilitators],
            description=move.description,
        )
    for note in plan.notes:
        services.note_add(access=access, body=note.body, noted_on=note.noted_on)
    return entities
