"""Synthetic cases for benchmarks: N generated cases spread over every agency with members,
written with bulk inserts (history included), deterministic for a given seed."""

import datetime
import multiprocessing
import os
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import connection, connections, transaction
from tqdm import tqdm

from casebook import services as agency_services
from casebook.demo.agencies import ensure_member
from casebook.demo.bulk import BULK_BATCH, bulk_insert, bulk_write_content
from casebook.demo.content import (
    LAST_DEMO_DAY,
    ContentPlan,
    clamp_to_today,
    plan_content,
    random_day,
)
from casebook.demo.identifiers import PHONE_PATTERNS, phone_number
from casebook.demo.places import CORRIDOR, PLACES
from casebook.models import Agency, Country, Member
from cases import outbox
from cases.models import Case, CaseCountry, CaseGroupObjectPermission, Entity
from cases.services import cases as case_services

Kind = Entity.Kind


SYNTHETIC_TITLES = {
    Case.Kind.SMUGGLING: (
        "Smuggling of migrants {a} – {b}",
        "Guides and boats on the {a} – {b} stretch",
        "Irregular transport of migrants from {a} to {b}",
        "Payments for crossings between {a} and {b}",
    ),
    Case.Kind.TRAFFICKING: (
        "Labour exploitation of migrants recruited in {a}",
        "Sexual exploitation network between {a} and {b}",
        "Recruitment with false job offers in {a}",
    ),
    Case.Kind.BOTH: (
        "Smuggling and exploitation of migrants from {a} to {b}",
        "Migrants held for ransom near {b}",
    ),
}
OPERATION_NAMES = (
    "Cóndor", "Jaguar", "Manglar", "Tucán", "Selva", "Frontera", "Istmo", "Garza", "Caimán",
    "Ceiba", "Quetzal", "Marea", "Puma", "Colibrí", "Volcán", "Arrecife",
)  # fmt: skip
STATUS_WEIGHTS = (
    (Case.Status.OPEN, 25), (Case.Status.INVESTIGATION, 35), (Case.Status.PROSECUTION, 15),
    (Case.Status.CLOSED, 20), (Case.Status.ARCHIVED, 5),
)  # fmt: skip
HANDLING_WEIGHTS = (
    (Case.HandlingCode.AMBER, 50), (Case.HandlingCode.GREEN, 20),
    (Case.HandlingCode.AMBER_STRICT, 15), (Case.HandlingCode.RED, 10),
    (Case.HandlingCode.CLEAR, 5),
)  # fmt: skip
SYNTHETIC_FIRST_DAY = datetime.date(2019, 1, 1)
# A small share of synthetic phones come from a common pool, so that cross-case matches exist
# at benchmark scale too.
SHARED_POOL_SHARE = 0.03


@dataclass
class Owner:
    agency: Agency
    actor: User


@dataclass
class CasePlan:
    owner: Owner
    title: str
    kind: str
    status: str
    handling_code: str
    opened_on: datetime.date
    closed_on: datetime.date | None
    countries: tuple[str, ...]
    summary: str
    content: ContentPlan


def _weighted(rng: random.Random, pairs: Sequence[tuple[str, int]]) -> str:
    return rng.choices([value for value, _ in pairs], weights=[w for _, w in pairs])[0]


def synthetic_owners() -> list[Owner]:
    """Every agency with an active member, in a stable order, with the member who records
    its synthetic cases (an investigator or prosecutor if there is one)."""
    owners = []
    preference = ("is_investigator", "is_prosecutor", "is_supervisor", "is_analyst")
    for agency in Agency.objects.order_by("country_id", "name", "id"):
        members = list(
            Member.objects.filter(agency=agency, user__is_active=True)
            .select_related("user")
            .order_by("user__username")
        )
        for flag in preference:
            chosen = next((m for m in members if getattr(m, flag)), None)
            if chosen is not None:
                owners.append(Owner(agency, chosen.user))
                break
    return owners


def _case_rng(seed: int, number: int) -> random.Random:
    # One generator per case, derived from the seed and the case's position, so that a case
    # is the same whichever process writes it and in whatever order.
    return random.Random(f"casebook-synthetic:{seed}:{number}")  # noqa: S311 (not a secret)


def _case_header(rng: random.Random, owners: Sequence[Owner]) -> tuple[int, datetime.date]:
    """The first draws of a synthetic case: its owner (an index) and its opening day, which
    together decide its reference."""
    return rng.randrange(len(owners)), random_day(rng, SYNTHETIC_FIRST_DAY, LAST_DEMO_DAY)


def plan_synthetic_case(
    rng: random.Random, owners: Sequence[Owner], shared_pool: Sequence[str]
) -> CasePlan:
    """One synthetic case: a stretch of the corridor near the owner's country, about ten
    entities, their links, one or two movements and a note."""
    owner_index, opened_on = _case_header(rng, owners)
    owner = owners[owner_index]
    country = owner.agency.country_id
    kind = rng.choices((Case.Kind.SMUGGLING, Case.Kind.TRAFFICKING, Case.Kind.BOTH), (6, 3, 1))[0]
    near = [i for i, key in enumerate(CORRIDOR) if PLACES[key].country == country]
    start = rng.choice(near) if near else rng.randrange(len(CORRIDOR) - 1)
    start = min(start, len(CORRIDOR) - 2)
    route = CORRIDOR[start : start + rng.choice((2, 2, 3))]
    status = _weighted(rng, STATUS_WEIGHTS)
    closed_on = None
    if status in (Case.Status.CLOSED, Case.Status.ARCHIVED):
        closed_on = clamp_to_today(opened_on + datetime.timedelta(days=rng.randint(30, 700)))
    a, b = PLACES[route[0]].name, PLACES[route[-1]].name
    title = rng.choice(SYNTHETIC_TITLES[kind]).format(a=a, b=b)
    title = f"{title} (Op. {rng.choice(OPERATION_NAMES)} {rng.randint(1, 99)})"
    content = plan_content(
        rng,
        kind=kind,
        country=country,
        route=route,
        opened_on=opened_on,
        suspects=rng.randint(2, 3),
        victims=rng.randint(1, 2),
        max_legs=2,
        notes=1,
        aliases=False,
    )
    for entity in content.entities:
        # Names and numbers that would otherwise recur in thousands of cases: at this scale
        # they must be rare, as in real files, or every case would match every other.
        if entity.kind == Kind.PHONE and rng.random() < SHARED_POOL_SHARE:
            entity.values["identifier"] = rng.choice(shared_pool)
            entity.values["identifier_country"] = ""
        elif entity.kind == Kind.ORGANISATION:
            entity.values["name"] = (
                f"{rng.choice(COMPANY_WORDS[0])} {rng.choice(COMPANY_WORDS[1])} "
                f"{PLACES[rng.choice(route)].name.split(',')[0]} {rng.choice(COMPANY_WORDS[2])}"
            )
        elif entity.kind == Kind.ONLINE and entity.values["subtype"] != "email":
            entity.values["identifier"] += str(rng.randint(10, 9999))
    return CasePlan(
        owner=owner,
        title=title,
        kind=kind,
        status=status,
        handling_code=_weighted(rng, HANDLING_WEIGHTS),
        opened_on=opened_on,
        closed_on=closed_on,
        countries=tuple(sorted({country, *(PLACES[key].country for key in route)})),
        summary=f"Synthetic case generated for benchmarks ({a} – {b}).",
        content=content,
    )


COMPANY_WORDS = (
    ("Transportes", "Inversiones", "Multiservicios", "Agencia de Viajes", "Comercializadora",
     "Hostal", "Cooperativa", "Distribuidora"),
    ("El Progreso", "La Esperanza", "Nuevo Horizonte", "Los Hermanos", "San Miguel",
     "Santa Fe", "El Dorado", "Estrella", "Rápido", "Continental"),
    ("S.A.", "S. de R.L.", "Ltda.", "S.A.S.", "y Cía."),
)  # fmt: skip


def ensure_synthetic_agencies(count: int) -> int:
    """Create the first ``count`` synthetic agencies (spread over the 23 member states, each
    with an investigator and a supervisor without usable passwords) that are missing.
    Returns how many were created."""
    countries = list(Country.objects.order_by("code"))
    kinds = [Agency.Kind.POLICE, Agency.Kind.PROSECUTION, Agency.Kind.BORDER]
    created = 0
    for number in range(1, count + 1):
        country = countries[(number - 1) % len(countries)]
        name = f"Synthetic agency {number:03d}"
        agency = Agency.objects.filter(country=country, name=name).first()
        if agency is None:
            agency = agency_services.agency_create(
                name=name,
                country=country,
                kind=kinds[number % len(kinds)],
                acronym=f"SYN{number:03d}",
                contact_point=f"desk{number:03d}@synthetic.example",
            )
            created += 1
        for role in ("investigator", "supervisor"):
            ensure_member(
                username=f"synthetic{number:03d}.{role}",
                agency=agency,
                roles=(role,),
                names=("Synthetic", f"{role.title()} {number:03d}"),
                password="",
            )
    return created


@transaction.atomic
def write_synthetic_batch(plans: Sequence[CasePlan], references: Sequence[str]) -> list[Case]:
    """Write planned cases with bulk inserts in one transaction: cases, countries, owner
    grants, entities (holders first), match keys, relationships, movements with their
    facilitators, and notes, each audited model with its history rows, and one change event
    per case. ``references`` come from ``services.references_reserve``. The rules (grants,
    keys, pseudonym numbers, events) are the services' own, called for many rows at once."""
    cases = [
        Case(
            reference=reference,
            title=plan.title,
            kind=plan.kind,
            status=plan.status,
            handling_code=plan.handling_code,
            owner_agency=plan.owner.agency,
            lead_officer=plan.owner.actor,
            summary=plan.summary,
            opened_on=plan.opened_on,
            closed_on=plan.closed_on,
            created_by=plan.owner.actor,
        )
        for plan, reference in zip(plans, references, strict=True)
    ]
    actors = [plan.owner.actor for plan in plans]
    cases = bulk_insert(Case, cases, actors)

    links, link_actors = [], []
    grants: list[CaseGroupObjectPermission] = []
    for case, plan in zip(cases, plans, strict=True):
        for code in plan.countries:
            links.append(CaseCountry(case_id=case.pk, country_id=code))
            link_actors.append(plan.owner.actor)
        grants.extend(
            case_services.owner_grant_rows(case_id=case.pk, group_id=plan.owner.agency.group_id)
        )
    bulk_insert(CaseCountry, links, link_actors)
    CaseGroupObjectPermission.objects.bulk_create(grants, batch_size=BULK_BATCH)
    bulk_write_content(
        [(case, plan.owner.actor, plan.content) for case, plan in zip(cases, plans, strict=True)]
    )
    # What ``services.case_create`` records for each case it creates, for the whole batch.
    outbox.cases_created_in_bulk(cases=cases, actors=actors)
    return cases


@dataclass
class SyntheticResult:
    cases_created: int = 0
    agencies_created: int = 0
    references: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Job:
    seed: int
    first: int  # position of the batch's first case in the run
    references: tuple[str, ...]
    owners: tuple[tuple[int, int], ...]  # (agency pk, actor pk), in owner order


def _shared_pool(seed: int) -> list[str]:
    rng = random.Random(f"casebook-synthetic-pool:{seed}")  # noqa: S311 (not a secret)
    return [phone_number(rng, country) for country in sorted(PHONE_PATTERNS) for _ in range(40)]


def _load_owners(pairs: Sequence[tuple[int, int]]) -> list[Owner]:
    agencies = Agency.objects.in_bulk([agency for agency, _actor in pairs])
    users = get_user_model().objects.in_bulk([actor for _agency, actor in pairs])
    return [Owner(agencies[agency], users[actor]) for agency, actor in pairs]


def _write_job(job: _Job) -> int:
    """Plan and write one batch; runs in the calling process or in a worker."""
    owners = _load_owners(job.owners)
    pool = _shared_pool(job.seed)
    plans = [
        plan_synthetic_case(_case_rng(job.seed, job.first + offset), owners, pool)
        for offset in range(len(job.references))
    ]
    write_synthetic_batch(plans, job.references)
    return len(plans)


def default_workers() -> int:
    """Two writer processes on PostgreSQL with two or more cores (the ORM's per-row work,
    not the database, is what bounds bulk inserts); one otherwise, and always one inside a
    transaction (a test), whose uncommitted rows other processes could not see."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return 1
    return max(1, min(2, os.cpu_count() or 1))


def seed_synthetic(
    *,
    count: int,
    seed: int,
    extra_agencies: int = 0,
    batch_size: int = 1000,
    workers: int | None = None,
    progress: bool = True,
) -> SyntheticResult:
    """Generate ``count`` synthetic cases spread over every agency that has members, in
    batches of ``batch_size`` cases, each batch written in its own transaction, by
    ``workers`` processes (``default_workers()`` if None).

    Deterministic for a given ``seed`` and set of agencies: two fresh databases seeded alike
    get the same titles, references and content (the public UUIDs differ). References are
    reserved for the whole run first, so the order in which batches finish does not matter.
    """
    result = SyntheticResult()
    if extra_agencies:
        with transaction.atomic():
            result.agencies_created = ensure_synthetic_agencies(extra_agencies)
    owners = synthetic_owners()
    if not owners:
        raise ValueError("No agency with members to own the synthetic cases.")
    slots = []
    for number in range(count):
        owner_index, opened_on = _case_header(_case_rng(seed, number), owners)
        slots.append((owners[owner_index].agency.country_id, opened_on.year))
    # Reserved for the whole run in one short transaction, so that the numbers never clash
    # with ``services.next_reference`` and the order in which batches finish does not matter.
    with transaction.atomic():
        references = case_services.references_reserve(slots=slots)
    pairs = tuple((owner.agency.pk, owner.actor.pk) for owner in owners)
    jobs = [
        _Job(seed, first, tuple(references[first : first + batch_size]), pairs)
        for first in range(0, count, batch_size)
    ]
    workers = default_workers() if workers is None else workers
    with tqdm(
        total=count, desc="synthetic cases", unit="case", file=sys.stderr, disable=not progress
    ) as bar:
        if workers <= 1 or len(jobs) <= 1:
            for job in jobs:
                bar.update(_write_job(job))
        else:
            # Forked workers must not share the parent's connection: close it first, and
            # each worker opens its own on first use.
            connections.close_all()
            context = multiprocessing.get_context("fork")
            with context.Pool(processes=workers) as pool:
                for written in pool.imap_unordered(_write_job, jobs):
                    bar.update(written)
    result.cases_created = count
    result.references = references
    return result
