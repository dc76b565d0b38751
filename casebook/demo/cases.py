"""The forty-odd handwritten demo cases, and ``seed_demo``, which writes the demo agencies,
members and cases through the services."""

import datetime
import random
import sys
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction
from tqdm import tqdm

from casebook import services as agency_services
from casebook.demo.agencies import (
    AGENCIES,
    CASE_AUTHORS,
    DEMO_USERNAMES,
    MEMBERS,
    ensure_agency,
    ensure_member,
    hashed_demo_password,
)
from casebook.demo.content import (
    FIRST_DEMO_DAY,
    LAST_DEMO_DAY,
    EntityPlan,
    clamp_to_today,
    plan_content,
    random_day,
    write_plan,
)
from casebook.demo.identifiers import (
    SHARED_IBAN_CR_PA,
    SHARED_ORGANISATION_CO_PA,
    SHARED_PASSPORT_PA_CR,
    SHARED_PERSON_GT_MX,
    SHARED_PHONE_CO_PA,
    SHARED_PHONE_PA_CR,
    SHARED_VICTIM_PHONE_CR_PA,
)
from casebook.demo.places import PLACES
from casebook.models import Agency, Country
from cases import services
from cases.models import Case, Entity

DEMO_SEED = 20260301

Kind = Entity.Kind
Role = Entity.Role


@dataclass(frozen=True)
class DemoCase:
    agency: str
    kind: str
    status: str
    title: str
    summary: str
    route: tuple[str, ...]
    handling_code: str = Case.HandlingCode.AMBER
    extras: tuple[EntityPlan, ...] = ()
    opened_on: datetime.date | None = None


S, T, B = Case.Kind.SMUGGLING, Case.Kind.TRAFFICKING, Case.Kind.BOTH
OPEN, INV, PROS = Case.Status.OPEN, Case.Status.INVESTIGATION, Case.Status.PROSECUTION
CLOSED = Case.Status.CLOSED


def _guide(name: str, phone: str, passport: str) -> tuple[EntityPlan, ...]:
    """The Darién guide who appears in a SENAFRONT and an OIJ case."""
    return (
        EntityPlan(
            Kind.PERSON,
            {
                "role": Role.TRANSPORTER,
                "name": name,
                "aliases": "El Chocoano",
                "nationality": "CO",
                "birth_date": datetime.date(1991, 7, 24),
            },
            ref="guide",
        ),
        EntityPlan(
            Kind.PHONE,
            {"role": Role.TRANSPORTER, "identifier": phone, "identifier_country": "PA"},
            holder_ref="guide",
        ),
        EntityPlan(
            Kind.DOCUMENT,
            {
                "role": Role.TRANSPORTER,
                "subtype": "passport",
                "identifier": passport,
                "identifier_country": SHARED_PASSPORT_PA_CR[1],
            },
            holder_ref="guide",
        ),
    )


def _phone_co_pa(holder_name: str) -> tuple[EntityPlan, ...]:
    return (
        EntityPlan(
            Kind.PERSON,
            {"role": Role.FINANCIER, "name": holder_name, "nationality": "CO"},
            ref="coordinator",
        ),
        EntityPlan(
            Kind.PHONE,
            {"role": Role.FINANCIER, "identifier": SHARED_PHONE_CO_PA, "identifier_country": "CO"},
            holder_ref="coordinator",
        ),
    )


def _iban_cr_pa(holder_name: str, written: str) -> tuple[EntityPlan, ...]:
    return (
        EntityPlan(
            Kind.PERSON,
            {"role": Role.FINANCIER, "name": holder_name, "nationality": "CR"},
            ref="account_holder",
        ),
        EntityPlan(
            Kind.ACCOUNT,
            {"role": Role.FINANCIER, "subtype": "iban", "identifier": written},
            holder_ref="account_holder",
        ),
    )


# The victim's side of a match on a protected identity (OIJ), and the other side: the same
# number among the contacts of a recruiter's phone that SENAFRONT seized.
VICTIM_WITH_PHONE = (
    EntityPlan(
        Kind.PERSON,
        {"role": Role.VICTIM, "name": "Yahoska Mercedes Obando Ríos", "nationality": "NI"},
        ref="victim",
    ),
    EntityPlan(
        Kind.PHONE,
        {"role": Role.VICTIM, "identifier": SHARED_VICTIM_PHONE_CR_PA, "identifier_country": "NI"},
        holder_ref="victim",
    ),
)
RECRUITERS_CONTACT = EntityPlan(
    Kind.PHONE,
    {
        "role": Role.OTHER,
        "identifier": "8734-1296",
        "identifier_country": "NI",
        "description": "Saved as 'Yahoska hotel' in the contacts of the recruiter's seized phone.",
    },
)


SHARED_PERSON = EntityPlan(
    Kind.PERSON,
    {
        "role": Role.RECRUITER,
        "name": SHARED_PERSON_GT_MX[0],
        "birth_date": SHARED_PERSON_GT_MX[1],
        "nationality": "GT",
        "aliases": "El Chapín",
    },
)
COOPERATIVE = EntityPlan(
    Kind.ORGANISATION, {"role": Role.FACILITATOR, "name": SHARED_ORGANISATION_CO_PA}
)
TRANSPORT_COMPANY = EntityPlan(
    Kind.ORGANISATION, {"role": Role.FACILITATOR, "name": "Transportes Istmeños del Sur, S.A."}
)

DEMO_CASES: tuple[DemoCase, ...] = (
    # Panama's border police (SENAFRONT)
    DemoCase("senafront", S, INV, "Night boat landings at Capurganá and guides to Bajo Chiquito",
             "Guides charge USD 300 to 500 per migrant to lead groups from the Colombian coast "
             "through the Darién jungle to Bajo Chiquito. The lead guide's phone and passport "
             "were recorded at the Lajas Blancas station.",
             ("capurgana", "bajo_chiquito", "lajas_blancas"),
             extras=_guide("Yeiner Palacios Mosquera", SHARED_PHONE_PA_CR,
                           SHARED_PASSPORT_PA_CR[0])),
    DemoCase("senafront", S, OPEN, "Canoe transport on the Tuquesa river to Lajas Blancas",
             "Piragua owners charge migrants for the river stretch from Bajo Chiquito to the "
             "reception station and overload the boats.",
             ("bajo_chiquito", "lajas_blancas")),
    DemoCase("senafront", S, INV, "Bus transfers from Lajas Blancas to Paso Canoas outside the "
             "controlled flow",
             "Buses leave the station at night without the migration registry and drop groups "
             "near the blind crossings of Paso Canoas.",
             ("lajas_blancas", "los_planes", "paso_canoas"),
             extras=(TRANSPORT_COMPANY, RECRUITERS_CONTACT)),
    DemoCase("senafront", B, INV, "Extortion and sexual exploitation of migrant women at "
             "Canaán Membrillo",
             "Women separated from their groups on the trail are held near the community and "
             "forced into sex work to pay the rest of the crossing.",
             ("capurgana", "canaan_membrillo", "bajo_chiquito"), Case.HandlingCode.RED),
    DemoCase("senafront", S, PROS, "Forged transit cards sold at the San Vicente station",
             "Forged migration cards sold to migrants as a way to skip the registry.",
             ("san_vicente", "paso_canoas")),
    DemoCase("senafront", S, OPEN, "Fast boats from Sapzurro to Puerto Obaldía",
             "Speed boats of a Colombian cooperative land migrants at Puerto Obaldía, from "
             "where they take light aircraft to the capital.",
             ("sapzurro", "puerto_obaldia", "panama_city"), extras=(COOPERATIVE,)),
    DemoCase("senafront", T, INV, "Minors recruited as carriers on the Darién trail",
             "Adolescents from indigenous communities recruited to carry migrants' luggage and "
             "supplies along the trail.",
             ("acandi", "bajo_chiquito"), Case.HandlingCode.RED),
    DemoCase("senafront", S, CLOSED, "Pick-up trucks moving migrants from Metetí to the capital",
             "Drivers hid groups of ten to fifteen people in pick-ups on the Pan-American "
             "highway.",
             ("meteti", "panama_city"), Case.HandlingCode.GREEN),
    DemoCase("senafront", S, OPEN, "Southbound boats from Miramar to Necoclí",
             "Reverse flow: migrants returning south pay for boat trips along the Caribbean "
             "coast from Colón to Colombia.",
             ("panama_city", "miramar", "necocli"), opened_on=datetime.date(2025, 3, 12)),
    # Panama's prosecution service
    DemoCase("mp_pa", S, PROS, "Money transfers financing the Capurganá–Bajo Chiquito network",
             "Transfers from relatives abroad reach a Colombian coordinator and a Costa Rican "
             "account before each crossing.",
             ("capurgana", "bajo_chiquito"),
             extras=(*_phone_co_pa("Jhon Fredy Cuesta Valencia"),
                     *_iban_cr_pa("Mariela Vargas Solís", SHARED_IBAN_CR_PA.replace(" ", "")))),
    DemoCase("mp_pa", T, PROS, "Labour exploitation of Venezuelan migrants in restaurants of "
             "Panama City",
             "Migrants recruited at the reception stations work 14-hour days without pay to "
             "repay a debt for the journey.",
             ("panama_city",)),
    DemoCase("mp_pa", T, INV, "Sexual exploitation ring in bars of Chiriquí",
             "Women recruited in the capital with job offers are moved to bars in David.",
             ("panama_city", "david"), Case.HandlingCode.AMBER_STRICT),
    DemoCase("mp_pa", S, CLOSED, "Smuggling of Chinese nationals through Tocumen and Paso Canoas",
             "Travellers in transit at Tocumen left the airport with forged visas and were "
             "driven to the Costa Rican border.",
             ("tocumen", "paso_canoas"), Case.HandlingCode.GREEN),
    DemoCase("mp_pa", B, INV, "Transport company moving migrants to the Costa Rican border",
             "A company with tourism permits runs unregistered trips to Paso Canoas.",
             ("lajas_blancas", "paso_canoas"), extras=(TRANSPORT_COMPANY,)),
    # Costa Rica's judicial police (OIJ)
    DemoCase("oij", S, INV, "Taxis carrying migrants from Paso Canoas to San José",
             "Informal taxis pick up groups at the border and charge USD 100 each for the trip "
             "to the capital. A detained driver had the number of a Panamanian guide, who was "
             "himself stopped with a Colombian passport.",
             ("paso_canoas", "san_jose"),
             extras=_guide("Yeiner Mosquera P.", "6481 2730", SHARED_PASSPORT_PA_CR[0].lower())),
    DemoCase("oij", S, OPEN, "Crossings through the blind trails of Paso Canoas",
             "Guides lead groups through farms around the official crossing.",
             ("paso_canoas", "ciudad_neily")),
    DemoCase("oij", S, INV, "Buses from Paso Canoas to Peñas Blancas outside the humanitarian "
             "flow",
             "Chartered buses take migrants straight to the Nicaraguan border for a fee.",
             ("paso_canoas", "san_jose", "penas_blancas")),
    DemoCase("oij", T, INV, "Sexual exploitation of Nicaraguan women in Limón",
             "Women recruited in Managua with offers of work in hotels were exploited in bars "
             "of the port.",
             ("managua", "penas_blancas", "limon"), Case.HandlingCode.AMBER_STRICT,
             extras=VICTIM_WITH_PHONE),
    DemoCase("oij", S, PROS, "Boats to Nicaragua from Los Chiles",
             "Boats on the Río Frío carry migrants across the northern border at night.",
             ("los_chiles", "san_carlos_ni")),
    DemoCase("oij", B, OPEN, "Safe house in Ciudad Neily holding migrants for ransom",
             "Migrants taken from the border were locked in a house until relatives paid.",
             ("paso_canoas", "neily_house"), Case.HandlingCode.RED),
    DemoCase("oij", S, CLOSED, "Forged refugee cards sold in San José",
             "Forged refugee identity cards sold to migrants to travel north.",
             ("san_jose", "penas_blancas"), Case.HandlingCode.GREEN),
    # Costa Rica's specialised prosecutor's office
    DemoCase("factra", T, PROS, "Forced labour on pineapple farms in the Northern Zone",
             "Nicaraguan workers brought across the river work without pay on farms near Pital.",
             ("san_carlos_ni", "los_chiles", "pital")),
    DemoCase("factra", S, PROS, "Prosecution of the Paso Canoas–Peñas Blancas transport network",
             "Payments for the trips were collected through a Costa Rican bank account.",
             ("paso_canoas", "penas_blancas"),
             extras=_iban_cr_pa("Mariela Vargas Solís", SHARED_IBAN_CR_PA)),
    DemoCase("factra", T, INV, "Online recruitment of Colombian women for exploitation in "
             "San José",
             "Job offers as models on social networks; the women's passports were taken on "
             "arrival.",
             ("rionegro", "juan_santamaria", "san_jose"), Case.HandlingCode.AMBER_STRICT),
    DemoCase("factra", B, OPEN, "Migrant children exploited in street sales in San José",
             "Children of migrant families made to sell sweets at traffic lights.",
             ("managua", "penas_blancas", "san_jose"), Case.HandlingCode.RED),
    # Colombia's criminal investigation police (DIJIN)
    DemoCase("dijin", S, INV, "Necoclí boat cooperative selling crossing packages",
             "A cooperative sells 'packages' with the boat to Capurganá or Acandí, a guide and "
             "camping gear; its coordinator's phone receives the payments.",
             ("necocli", "capurgana"),
             extras=(*_phone_co_pa("Jhon Fredy Cuesta Valencia"), COOPERATIVE)),
    DemoCase("dijin", S, OPEN, "Hostels in Necoclí used as staging points",
             "Hostels hold groups until the boat leaves and sell them the guide's contact.",
             ("medellin", "necocli")),
    DemoCase("dijin", T, INV, "Recruitment of Venezuelan women in Medellín for exploitation in "
             "Panama",
             "Women flown to Panama with job offers that turned out to be sex work.",
             ("medellin", "rionegro", "tocumen"), Case.HandlingCode.AMBER_STRICT),
    DemoCase("dijin", S, PROS, "Guides from Acandí across the border ridge",
             "Guides take groups from Acandí over the ridge to the Panamanian side.",
             ("necocli", "acandi", "bajo_chiquito")),
    DemoCase("dijin", S, CLOSED, "Ticket fraud against migrants at the port of Turbo",
             "Fake boat tickets sold to migrants waiting at the port.",
             ("turbo", "capurgana"), Case.HandlingCode.GREEN),
    DemoCase("dijin", B, INV, "Armed group levying a fee per migrant at Capurganá",
             "An armed group collects a fee from every migrant and every boat operator.",
             ("necocli", "capurgana", "bajo_chiquito"), Case.HandlingCode.RED),
    # Guatemala's civil police
    DemoCase("pnc_gt", S, INV, "Microbuses from Agua Caliente to Tecún Umán",
             "Microbuses carry migrants across the country from the Honduran border.",
             ("agua_caliente", "guatemala_city", "tecun_uman")),
    DemoCase("pnc_gt", S, OPEN, "Rafts across the Suchiate river at Tecún Umán",
             "Raft operators carry migrants to Ciudad Hidalgo for a few dollars each.",
             ("tecun_uman", "ciudad_hidalgo"), Case.HandlingCode.GREEN),
    DemoCase("pnc_gt", T, INV, "Recruitment of Honduran adolescents for exploitation in "
             "Guatemala City",
             "A recruiter known in both countries offers work in the capital.",
             ("tegucigalpa", "guatemala_city"), Case.HandlingCode.AMBER_STRICT,
             extras=(SHARED_PERSON,)),
    # Honduras' investigation police
    DemoCase("dpi_hn", S, INV, "Buses carrying migrants from Trojes after crossing from "
             "Nicaragua",
             "Drivers wait for groups at Trojes and take them to the capital without stops.",
             ("trojes", "danli", "tegucigalpa")),
    DemoCase("dpi_hn", T, OPEN, "Debt bondage of migrants in San Pedro Sula",
             "Migrants who ran out of money work for the smugglers to pay the next stretch.",
             ("tegucigalpa", "san_pedro_sula")),
    # Mexico's federal prosecution (FGR)
    DemoCase("fgr", S, PROS, "Tractor-trailer with migrants intercepted in Chiapas",
             "A trailer with more than a hundred migrants in its box was stopped on the way "
             "to Tuxtla Gutiérrez.",
             ("tapachula", "tuxtla")),
    DemoCase("fgr", T, INV, "Exploitation of Central American women in bars of Tapachula",
             "Women recruited in Guatemala exploited in bars near the border.",
             ("tecun_uman", "tapachula"), Case.HandlingCode.AMBER_STRICT, extras=(SHARED_PERSON,)),
    DemoCase("fgr", S, INV, "Fake job offers and bus tickets from Tapachula to the northern "
             "border",
             "A network sells bus tickets and fake work permits to the border.",
             ("tapachula", "cdmx", "reynosa")),
    DemoCase("fgr", S, OPEN, "Safe houses in Reynosa holding migrants for ransom",
             "Migrants kidnapped at the bus station are held until their relatives pay.",
             ("cdmx", "reynosa"), Case.HandlingCode.RED),
    # Regional analysis unit
    DemoCase("regional", S, INV, "Corridor analysis: Necoclí to Tapachula, 2023 peak",
             "Analysis of the main corridor in the year of the highest recorded Darién "
             "crossings (520,085 according to Panama's Ministry of Public Security).",
             ("necocli", "bajo_chiquito", "paso_canoas", "penas_blancas", "tecun_uman",
              "tapachula"),
             Case.HandlingCode.GREEN, opened_on=datetime.date(2024, 1, 15)),
    DemoCase("regional", B, OPEN, "Cross-border payment patterns of smuggling networks",
             "Accounts and phones that receive payments in more than one country.",
             ("panama_city", "san_jose", "guatemala_city")),
)  # fmt: skip


# --- writing the demo ----------------------------------------------------------------------


@dataclass
class DemoResult:
    agencies_created: int = 0
    members_created: int = 0
    cases_created: int = 0
    logins: list[tuple[str, str, str]] = field(default_factory=list)  # username, agency, roles


@transaction.atomic
def seed_demo(*, password: str | None, progress: bool = True) -> DemoResult:
    """Create the demo agencies, members and cases that are missing, in one transaction.

    Agencies are recognised by country and name, users by username; the demo cases are
    written only when the demo agencies own no case yet, so a second run creates nothing.
    ``password`` is the demo password (None: unusable passwords). Writes through the services
    with a member of the owning agency as the actor.
    """
    result = DemoResult()
    agencies: dict[str, Agency] = {}
    for spec in AGENCIES:
        agencies[spec.key], created = ensure_agency(spec)
        result.agencies_created += created
    existing = get_user_model().objects.filter(username__in=DEMO_USERNAMES)
    missing = len(DEMO_USERNAMES) > existing.count()
    hashed = hashed_demo_password(password) if missing else ""
    users: dict[str, Any] = {}
    for member in MEMBERS:
        agency = agencies[member.agency]
        users[member.username], created = ensure_member(
            username=member.username,
            agency=agency,
            roles=member.roles,
            names=(member.first_name, member.last_name),
            password=hashed,
        )
        result.members_created += created
        result.logins.append((member.username, agency.acronym, ", ".join(member.roles)))
    if Case.objects.filter(owner_agency__in=agencies.values()).exists():
        return result
    # Costa Rica's police want to hear of matches on their protected identities (the other
    # agency is never told): the demo shows one policy of each kind.
    oij = agencies["oij"]
    agency_services.agency_settings_update(
        actor=users["supervisor.cr"],
        agency=oij,
        contact_point=oij.contact_point,
        protected_match_policy=Agency.ProtectedMatchPolicy.OWNER_DECIDES,
    )
    rng = random.Random(DEMO_SEED)  # noqa: S311 (reproducible demo data, not a secret)
    for spec in tqdm(
        DEMO_CASES, desc="demo cases", unit="case", file=sys.stderr, disable=not progress
    ):
        _write_demo_case(rng, spec, agencies[spec.agency], users[CASE_AUTHORS[spec.agency]])
        result.cases_created += 1
    return result


def _write_demo_case(rng: random.Random, spec: DemoCase, agency: Agency, actor: User) -> Case:
    opened_on = clamp_to_today(spec.opened_on or random_day(rng, FIRST_DEMO_DAY, LAST_DEMO_DAY))
    closed_on = None
    if spec.status == Case.Status.CLOSED:
        closed_on = clamp_to_today(opened_on + datetime.timedelta(days=rng.randint(60, 400)))
    countries = {agency.country_id, *(PLACES[key].country for key in spec.route)}
    case = services.case_create(
        actor=actor,
        agency=agency,
        title=spec.title,
        kind=spec.kind,
        status=spec.status,
        handling_code=spec.handling_code,
        summary=spec.summary,
        countries=Country.objects.filter(pk__in=countries),
        lead_officer=actor,
        opened_on=opened_on,
        closed_on=closed_on,
    )
    plan = plan_content(
        rng,
        kind=spec.kind,
        country=agency.country_id,
        route=spec.route,
        opened_on=opened_on,
        suspects=rng.randint(2, 4),
        victims=rng.randint(1, 3),
        extras=spec.extras,
        notes=rng.randint(1, 3),
    )
    write_plan(actor=actor, case=case, plan=plan)
    return case
