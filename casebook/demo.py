"""Demo data: agencies, members and cases along the Colombia–Darién–Panama–Costa Rica–Central
America–Mexico corridor, and bulk-generated synthetic cases for benchmarks.

- ``seed_demo``: real agencies (real names, fictitious contact points), demo members with stable
  usernames, and about forty cases written through the services, so that their history, match
  keys and grants are exactly what a user would have made. A few identifiers are deliberately
  shared between cases of different agencies (see ``SHARED_*``), so cross-agency matches exist.
- ``seed_synthetic``: N generated cases written with bulk inserts (history included) for
  benchmarks; deterministic for a given seed on a given database.

Every person, company, phone number, account, document and plate here is fictitious; places
and the Darién figures are real. Everything is derived from a fixed random seed, so two runs
on fresh databases give the same data.
"""

import datetime
import multiprocessing
import os
import random
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import phonenumbers
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection, connections, transaction
from django.db.models import Max
from django.utils import timezone
from simple_history.utils import bulk_create_with_history
from tqdm import tqdm

from casebook import services as agency_services
from casebook.models import Agency, Country, Member
from cases import matchkeys, services
from cases.models import (
    Case,
    CaseCountry,
    CaseGroupObjectPermission,
    Entity,
    MatchKey,
    Movement,
    MovementFacilitator,
    Note,
    ReferenceSequence,
    Relationship,
)
from cases.selectors import permission_id

DEMO_SEED = 20260301
# Demo dates stay before this day (and before today), so the demo is the same every time.
LAST_DEMO_DAY = datetime.date(2026, 9, 30)
FIRST_DEMO_DAY = datetime.date(2023, 2, 1)

Kind = Entity.Kind
Role = Entity.Role
Means = Movement.Means

# --- agencies and members -----------------------------------------------------------------


@dataclass(frozen=True)
class AgencySpec:
    key: str
    country: str
    name: str
    acronym: str
    kind: str
    contact_point: str


AGENCIES: tuple[AgencySpec, ...] = (
    AgencySpec(
        "senafront", "PA", "Servicio Nacional de Fronteras", "SENAFRONT", Agency.Kind.BORDER,
        "Dirección de Inteligencia, enlace Casebook (enlace@senafront.example)",
    ),
    AgencySpec(
        "mp_pa", "PA", "Ministerio Público de Panamá", "MP", Agency.Kind.PROSECUTION,
        "Fiscalía Especializada contra la Delincuencia Organizada (fedo@ministeriopublico.example)",
    ),
    AgencySpec(
        "oij", "CR", "Organismo de Investigación Judicial", "OIJ", Agency.Kind.POLICE,
        "Sección de Trata de Personas y Tráfico Ilícito de Migrantes (trata@oij.example)",
    ),
    AgencySpec(
        "factra", "CR",
        "Ministerio Público de Costa Rica: Fiscalía Adjunta contra la Trata de Personas y el "
        "Tráfico Ilícito de Migrantes",
        "FACTRA", Agency.Kind.PROSECUTION,
        "Fiscal adjunta de turno (factra@ministeriopublico-cr.example)",
    ),
    AgencySpec(
        "dijin", "CO", "Dirección de Investigación Criminal e INTERPOL", "DIJIN",
        Agency.Kind.POLICE,
        "Grupo de Tráfico de Migrantes y Trata de Personas (migrantes@dijin.example)",
    ),
    AgencySpec(
        "pnc_gt", "GT", "Policía Nacional Civil", "PNC", Agency.Kind.POLICE,
        "División Especializada en Investigación Criminal (deic@pnc-gt.example)",
    ),
    AgencySpec(
        "dpi_hn", "HN", "Dirección Policial de Investigaciones", "DPI", Agency.Kind.POLICE,
        "Unidad contra la Trata y el Tráfico de Personas (trata@dpi-hn.example)",
    ),
    AgencySpec(
        "fgr", "MX", "Fiscalía General de la República", "FGR", Agency.Kind.PROSECUTION,
        "Unidad Especializada en Investigación de Tráfico de Menores, Personas y Órganos "
        "(enlace@fgr.example)",
    ),
    AgencySpec(
        "regional", "PA", "Unidad Regional de Análisis sobre Trata y Tráfico (demo)", "URA",
        Agency.Kind.REGIONAL,
        "Mesa de análisis regional (analisis@ura.example)",
    ),
)  # fmt: skip
AGENCY_BY_KEY = {spec.key: spec for spec in AGENCIES}


@dataclass(frozen=True)
class MemberSpec:
    username: str
    agency: str
    roles: tuple[str, ...]
    first_name: str
    last_name: str


MEMBERS: tuple[MemberSpec, ...] = (
    MemberSpec("investigator.pa", "senafront", ("investigator",), "Ricardo", "Batista"),
    MemberSpec("supervisor.pa", "senafront", ("supervisor",), "Itzel", "Castillo"),
    MemberSpec("analyst.pa", "senafront", ("analyst",), "Jorge", "Quintero"),
    MemberSpec("prosecutor.pa", "mp_pa", ("prosecutor",), "Marisol", "Cedeño"),
    MemberSpec("supervisor.mp.pa", "mp_pa", ("supervisor",), "Eduardo", "Solís"),
    MemberSpec("investigator.cr", "oij", ("investigator",), "Andrea", "Chaves"),
    MemberSpec("supervisor.cr", "oij", ("supervisor",), "Mauricio", "Araya"),
    MemberSpec("prosecutor.cr", "factra", ("prosecutor",), "Gabriela", "Mora"),
    MemberSpec("supervisor.factra.cr", "factra", ("supervisor",), "Rodrigo", "Jiménez"),
    MemberSpec("investigator.co", "dijin", ("investigator",), "Camilo", "Restrepo"),
    MemberSpec("supervisor.co", "dijin", ("supervisor",), "Liliana", "Gómez"),
    MemberSpec("investigator.gt", "pnc_gt", ("investigator",), "Byron", "Cifuentes"),
    MemberSpec("supervisor.gt", "pnc_gt", ("supervisor",), "Claudia", "Ixcot"),
    MemberSpec("investigator.hn", "dpi_hn", ("investigator",), "Wilmer", "Zelaya"),
    MemberSpec("supervisor.hn", "dpi_hn", ("supervisor",), "Karla", "Mejía"),
    MemberSpec("prosecutor.mx", "fgr", ("prosecutor",), "Alejandra", "Villaseñor"),
    MemberSpec("supervisor.mx", "fgr", ("supervisor",), "Héctor", "Ruiz"),
    MemberSpec("analyst.regional", "regional", ("analyst",), "Natalia", "Pinzón"),
    MemberSpec("supervisor.regional", "regional", ("supervisor",), "Esteban", "Arosemena"),
)
DEMO_USERNAMES = tuple(spec.username for spec in MEMBERS)
# Who records each agency's demo cases.
CASE_AUTHORS = {
    "senafront": "investigator.pa",
    "mp_pa": "prosecutor.pa",
    "oij": "investigator.cr",
    "factra": "prosecutor.cr",
    "dijin": "investigator.co",
    "pnc_gt": "investigator.gt",
    "dpi_hn": "investigator.hn",
    "fgr": "prosecutor.mx",
    "regional": "analyst.regional",
}

# --- places ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    name: str
    country: str
    kind: str  # Entity.LocationKind
    latitude: float
    longitude: float


LK = Entity.LocationKind
# Approximate coordinates (3 decimals) of the places of the route. ERM: Estación de Recepción
# Migratoria, Panama's reception stations for migrants leaving the Darién.
PLACES: dict[str, Place] = {
    "medellin": Place("Medellín", "CO", LK.CITY, 6.244, -75.581),
    "rionegro": Place("Aeropuerto José María Córdova, Rionegro", "CO", LK.AIRPORT, 6.167, -75.427),
    "turbo": Place("Turbo", "CO", LK.PORT, 8.093, -76.728),
    "necocli": Place("Necoclí", "CO", LK.PORT, 8.426, -76.784),
    "acandi": Place("Acandí", "CO", LK.CITY, 8.512, -77.279),
    "capurgana": Place("Capurganá", "CO", LK.PORT, 8.633, -77.350),
    "sapzurro": Place("Sapzurro", "CO", LK.PORT, 8.659, -77.362),
    "puerto_obaldia": Place("Puerto Obaldía", "PA", LK.PORT, 8.667, -77.418),
    "canaan_membrillo": Place("Canaán Membrillo", "PA", LK.CAMP, 7.998, -77.541),
    "bajo_chiquito": Place("Bajo Chiquito", "PA", LK.CAMP, 8.118, -77.558),
    "lajas_blancas": Place("ERM Lajas Blancas", "PA", LK.CAMP, 8.297, -77.806),
    "san_vicente": Place("ERM San Vicente, Metetí", "PA", LK.CAMP, 8.478, -77.958),
    "meteti": Place("Metetí", "PA", LK.CITY, 8.497, -77.975),
    "panama_city": Place("Ciudad de Panamá", "PA", LK.CITY, 8.983, -79.520),
    "tocumen": Place("Aeropuerto Internacional de Tocumen", "PA", LK.AIRPORT, 9.071, -79.383),
    "miramar": Place("Miramar, Colón", "PA", LK.PORT, 9.565, -79.341),
    "david": Place("David", "PA", LK.CITY, 8.427, -82.431),
    "los_planes": Place("ERM Los Planes, Gualaca", "PA", LK.CAMP, 8.540, -82.295),
    "paso_canoas": Place("Paso Canoas", "PA", LK.BORDER_CROSSING, 8.534, -82.839),
    "ciudad_neily": Place("Ciudad Neily", "CR", LK.CITY, 8.654, -82.941),
    "neily_house": Place("Casa de seguridad, Ciudad Neily", "CR", LK.SAFE_HOUSE, 8.648, -82.935),
    "san_jose": Place("San José", "CR", LK.CITY, 9.928, -84.091),
    "juan_santamaria": Place("Aeropuerto Juan Santamaría", "CR", LK.AIRPORT, 9.994, -84.209),
    "limon": Place("Puerto Limón", "CR", LK.PORT, 9.991, -83.033),
    "pital": Place("Pital, San Carlos", "CR", LK.CITY, 10.451, -84.274),
    "los_chiles": Place("Los Chiles", "CR", LK.BORDER_CROSSING, 11.034, -84.714),
    "penas_blancas": Place("Peñas Blancas", "CR", LK.BORDER_CROSSING, 11.215, -85.612),
    "san_carlos_ni": Place("San Carlos, Río San Juan", "NI", LK.PORT, 11.123, -84.778),
    "managua": Place("Managua", "NI", LK.CITY, 12.136, -86.251),
    "trojes": Place("Trojes", "HN", LK.BORDER_CROSSING, 14.063, -85.987),
    "danli": Place("Danlí", "HN", LK.CITY, 14.031, -86.574),
    "tegucigalpa": Place("Tegucigalpa", "HN", LK.CITY, 14.072, -87.192),
    "san_pedro_sula": Place("San Pedro Sula", "HN", LK.CITY, 15.505, -88.025),
    "agua_caliente": Place("Agua Caliente", "HN", LK.BORDER_CROSSING, 14.440, -89.188),
    "guatemala_city": Place("Ciudad de Guatemala", "GT", LK.CITY, 14.634, -90.507),
    "tecun_uman": Place("Tecún Umán", "GT", LK.BORDER_CROSSING, 14.678, -92.142),
    "ciudad_hidalgo": Place("Ciudad Hidalgo", "MX", LK.BORDER_CROSSING, 14.679, -92.150),
    "tapachula": Place("Tapachula", "MX", LK.CITY, 14.906, -92.263),
    "tuxtla": Place("Tuxtla Gutiérrez", "MX", LK.CITY, 16.753, -93.116),
    "cdmx": Place("Ciudad de México", "MX", LK.CITY, 19.433, -99.133),
    "reynosa": Place("Reynosa", "MX", LK.CITY, 26.092, -98.278),
}  # fmt: skip

# The main northbound corridor, in travel order; synthetic cases take a stretch of it.
CORRIDOR = (
    "necocli", "capurgana", "bajo_chiquito", "lajas_blancas", "los_planes", "paso_canoas",
    "san_jose", "penas_blancas", "managua", "trojes", "tegucigalpa", "agua_caliente",
    "guatemala_city", "tecun_uman", "tapachula", "cdmx", "reynosa",
)  # fmt: skip
# How people travel on a leg; by bus unless listed.
LEG_MEANS: dict[tuple[str, str], str] = {
    ("necocli", "capurgana"): Means.BOAT,
    ("necocli", "acandi"): Means.BOAT,
    ("turbo", "capurgana"): Means.BOAT,
    ("capurgana", "bajo_chiquito"): Means.FOOT,
    ("acandi", "bajo_chiquito"): Means.FOOT,
    ("capurgana", "canaan_membrillo"): Means.FOOT,
    ("canaan_membrillo", "bajo_chiquito"): Means.FOOT,
    ("sapzurro", "puerto_obaldia"): Means.BOAT,
    ("puerto_obaldia", "panama_city"): Means.PLANE,
    ("bajo_chiquito", "lajas_blancas"): Means.BOAT,
    ("meteti", "panama_city"): Means.CAR,
    ("miramar", "necocli"): Means.BOAT,
    ("paso_canoas", "san_jose"): Means.CAR,
    ("paso_canoas", "ciudad_neily"): Means.FOOT,
    ("paso_canoas", "neily_house"): Means.CAR,
    ("los_chiles", "san_carlos_ni"): Means.BOAT,
    ("los_chiles", "pital"): Means.TRUCK,
    ("rionegro", "juan_santamaria"): Means.PLANE,
    ("rionegro", "tocumen"): Means.PLANE,
    ("juan_santamaria", "san_jose"): Means.CAR,
    ("tecun_uman", "ciudad_hidalgo"): Means.BOAT,
    ("tecun_uman", "tapachula"): Means.BOAT,
    ("tapachula", "tuxtla"): Means.TRUCK,
}

# Yearly irregular crossings of the Darién recorded by Panama (facts: Panama SNM / Ministry of
# Public Security figures as reported in the press; ../shared/data/SOURCES.md, file
# migration/darien_crossings_published.csv). They scale the group sizes of movements.
DARIEN_CROSSINGS = {
    2015: 29_289, 2016: 30_055, 2017: 6_780, 2018: 9_222, 2019: 22_102,
    2020: 6_465, 2021: 133_726, 2022: 248_284, 2023: 520_085, 2024: 302_203,
}  # fmt: skip

# --- people, organisations and identifiers (all fictitious) --------------------------------

MALE_NAMES = (
    "José", "Luis Alberto", "Carlos", "Juan David", "Jorge", "Miguel Ángel", "Andrés",
    "Yeison", "Jhon Fredy", "Wilmer", "Édgar", "Óscar", "Rigoberto", "Darwin", "Anderson",
    "Eliécer", "Rubén Darío", "Alexis", "Yeiner", "Nelson",
)  # fmt: skip
FEMALE_NAMES = (
    "María José", "Ana Lucía", "Yuliana", "Carmen", "Luz Mery", "Daniela", "Yessenia", "Rosa",
    "Marisol", "Karina", "Leidy Johana", "Gloria", "Dayana", "Nayeli", "Mariela",
)  # fmt: skip
SURNAMES = (
    "Mosquera", "Palacios", "Córdoba", "Rentería", "Moreno", "Pérez", "González", "Rodríguez",
    "Castillo", "Batista", "Quintero", "Solís", "Vargas", "Jiménez", "Chaves", "Araya", "Mora",
    "López", "Coj", "Hernández", "Ramírez", "Cruz", "Álvarez", "Barrios", "Delgado",
    "Sánchez", "Ortega", "Murillo", "Valencia", "Cuesta", "Ibargüen", "Tuñón", "Camargo",
)  # fmt: skip
HAITIAN_FIRST = ("Jean", "Marie", "Wilner", "Rose-Mirlande", "Jean-Baptiste", "Guerline")
HAITIAN_LAST = ("Joseph", "Pierre", "Louis", "Charles", "Dorvil", "Saint-Fleur", "Jean-Louis")
CHINESE_NAMES = ("Wang Lei", "Li Na", "Zhang Wei", "Chen Jing", "Liu Yang", "Huang Min")
ALIASES = (
    "El Paisa", "El Chocoano", "La Flaca", "El Gato", "Chamo", "El Profe", "Mono",
    "El Costeño", "Tío", "El Guía", "Pescado", "Cachaco",
)  # fmt: skip
# Where the people moved come from, roughly in the order of the Darién figures.
MIGRANT_NATIONALITIES = ("VE", "VE", "VE", "VE", "EC", "HT", "CO", "CN", "CU", "PE")
ORGANISATIONS: dict[str, tuple[str, ...]] = {
    "CO": (
        "Cooperativa de Lancheros del Golfo de Urabá",
        "Hostal Brisas del Urabá",
        "Agencia de Viajes Ruta Segura del Darién",
    ),
    "PA": (
        "Transportes Istmeños del Sur, S.A.",
        "Multiservicios Chiriquí Express",
        "Bar y Restaurante La Cabaña Tropical",
    ),
    "CR": ("Agencia de Empleos Futuro Brillante", "Taxis y Encomiendas Zona Sur"),
    "NI": ("Transportes Río San Juan",),
    "HN": ("Expresos Frontera Oriente",),
    "GT": ("Microbuses La Fronteriza",),
    "MX": ("Autobuses Frontera Sur", "Fletes y Mudanzas del Soconusco"),
}
ONLINE_HANDLES = (
    ("facebook", "viajes.seguros.darien"),
    ("facebook", "rutaalnorte.asesorias"),
    ("telegram", "@guia_darien_507"),
    ("telegram", "@pasajes_norte"),
    ("tiktok", "@cruzando.la.selva"),
    ("whatsapp", "Asesorías Migratorias Urabá"),
    ("email", "empleos.futurobrillante@example.com"),
    ("instagram", "@modelos_sanjose_oficial"),
)  # fmt: skip

# Number patterns (prefix, digits that follow) that phonenumbers accepts for every completion,
# so that generated numbers are valid mobiles of their country (checked by the tests).
PHONE_PATTERNS: dict[str, tuple[tuple[str, int], ...]] = {
    "PA": (("+5076", 7),),
    "CR": (("+50683", 6), ("+50688", 6), ("+50687", 6)),
    "CO": (("+57310", 7), ("+57314", 7), ("+57320", 7), ("+57301", 7), ("+57350", 7)),
    "NI": (("+50588", 6), ("+50585", 6), ("+50589", 6)),
    "HN": (("+5049", 7), ("+5043", 7)),
    "GT": (("+5025", 7), ("+5024", 7), ("+5023", 7)),
    "MX": (("+52962", 7), ("+52555", 7), ("+52981", 7)),
    "SV": (("+5037", 7),),
    "VE": (("+58412", 7), ("+58414", 7), ("+58424", 7)),
    "EC": (("+59399", 7), ("+59398", 7)),
    "HT": (("+50938", 6),),
}
PLATE_FORMATS = {
    "PA": "LL####",
    "CR": "LLL-###",
    "CO": "LLL###",
    "MX": "LLL-###-L",
    "GT": "P-###LLL",
}
NATIONAL_ID_FORMATS = {
    "PA": "8-###-####", "CO": "##########", "GT": "#### ##### ####", "HN": "0801-####-#####",
    "NI": "001-######-####L", "SV": "########-#",
}  # fmt: skip
PASSPORT_FORMATS = {"CO": "LL######", "VE": "#########", "PA": "PA#######", "EC": "L#######"}
LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"


def _fill(rng: random.Random, fmt: str) -> str:
    """``L`` is a letter, ``#`` a digit, anything else is kept."""
    return "".join(
        rng.choice(LETTERS) if ch == "L" else str(rng.randrange(10)) if ch == "#" else ch
        for ch in fmt
    )


def phone_number(rng: random.Random, country: str) -> str:
    """A valid mobile number of ``country`` (Colombian if there is no pattern for it), in
    the international format an officer would type."""
    prefix, digits = rng.choice(PHONE_PATTERNS.get(country) or PHONE_PATTERNS["CO"])
    number = phonenumbers.parse(prefix + "".join(str(rng.randrange(10)) for _ in range(digits)))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def iban_with_check(country: str, bban: str) -> str:
    """An IBAN with its ISO 13616 check digits: 98 minus the remainder by 97 of the BBAN
    followed by the country code and "00", with letters read as 10 to 35."""
    digits = "".join(str(int(ch, 36)) for ch in f"{bban}{country}00")
    return f"{country}{98 - int(digits) % 97:02d}{bban}"


def format_iban(value: str) -> str:
    return " ".join(value[i : i + 4] for i in range(0, len(value), 4))


# BBAN layouts of the IBAN countries among the member states (SWIFT IBAN registry).
IBAN_BBAN_FORMATS = {
    "CR": ("0{bank}##############", ("151", "152", "102", "104", "161")),
    "GT": ("{bank}####################", ("TRAJ", "BAGU", "BRRL")),
    "DO": ("{bank}####################", ("BAGR", "BPDO", "BRRD")),
    "SV": ("{bank}####################", ("CENR", "AGRI", "CUSC")),
}


def iban_number(rng: random.Random, country: str = "CR") -> str:
    layout, banks = IBAN_BBAN_FORMATS[country]
    return format_iban(iban_with_check(country, _fill(rng, layout.format(bank=rng.choice(banks)))))


def passport_number(rng: random.Random, country: str) -> str:
    return _fill(rng, PASSPORT_FORMATS.get(country, "L#######"))


def plate_number(rng: random.Random, country: str) -> str:
    return _fill(rng, PLATE_FORMATS.get(country, "LLL###"))


# Identifiers deliberately shared between cases of different agencies. Each case writes them
# its own way (spacing, dashes, case), as officers do; the match keys are the same.
SHARED_PHONE_PA_CR = "+507 6481-2730"  # SENAFRONT (Darién guide) and OIJ (Paso Canoas taxis)
SHARED_PASSPORT_PA_CR = ("AQ517204", "CO")  # the same guide, in both cases
SHARED_PHONE_CO_PA = "+57 314 582 9071"  # DIJIN (boat cooperative) and Panama's prosecution
# The account of the IBAN registry's Costa Rican example: fictitious by construction.
SHARED_IBAN_CR_PA = format_iban(iban_with_check("CR", "015202001026284066"))
SHARED_PERSON_GT_MX = ("Marvin Estuardo López Coj", datetime.date(1984, 3, 12))
SHARED_ORGANISATION_CO_PA = "Cooperativa de Lancheros del Golfo de Urabá"


def shared_match_keys() -> dict[str, str]:
    """The match keys of the deliberately shared identifiers."""
    return {
        "phone_pa_cr": matchkeys.MatchKey(
            "phone", matchkeys.phone_key(SHARED_PHONE_PA_CR, default_region="PA")
        ).key,
        "passport_pa_cr": matchkeys.MatchKey(
            "document",
            matchkeys.document_key(
                SHARED_PASSPORT_PA_CR[0], country=SHARED_PASSPORT_PA_CR[1], document_type="passport"
            ),
        ).key,
        "phone_co_pa": matchkeys.MatchKey(
            "phone", matchkeys.phone_key(SHARED_PHONE_CO_PA, default_region="CO")
        ).key,
        "iban_cr_pa": matchkeys.MatchKey(
            "account", matchkeys.account_key(SHARED_IBAN_CR_PA, account_type="iban")
        ).key,
    }


# --- what a case contains: plans that the demo writes through the services and the
# synthetic generator writes in bulk ------------------------------------------------------


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


def _day(rng: random.Random, start: datetime.date, end: datetime.date) -> datetime.date:
    end = min(end, timezone.localdate())
    if end <= start:
        return end
    return start + datetime.timedelta(days=rng.randrange((end - start).days + 1))


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
    return _day(rng, start, end)


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


def group_size(rng: random.Random, year: int) -> int:
    """People in one smuggled group: a small share of a day's Darién crossings that year."""
    known = max(y for y in DARIEN_CROSSINGS if y <= max(year, min(DARIEN_CROSSINGS)))
    per_day = DARIEN_CROSSINGS[known] / 365
    return max(3, min(180, round(per_day * rng.uniform(0.01, 0.08))))


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
        subtype, number = "national_id", _fill(rng, NATIONAL_ID_FORMATS[carrier_country])
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
            account = _fill(rng, "##########" + "#" * rng.randrange(5))
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
        plan.relate(rng, a, b, Relationship.Kind.COMMUNICATES, _day(rng, start, opened_on))
    for victim in victim_ids:
        if not suspect_ids:
            break
        suspect = rng.choice(suspect_ids)
        relation = Relationship.Kind.RECRUITS if trafficking else Relationship.Kind.TRANSPORTS
        plan.relate(rng, suspect, victim, relation, _day(rng, start, opened_on))
        if rng.random() < 0.5:
            plan.relate(rng, victim, suspect, Relationship.Kind.PAYS, _day(rng, start, opened_on))
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
        plan.notes.append(NotePlan(_day(rng, opened_on, LAST_DEMO_DAY), body))
    return plan


# --- the demo cases ------------------------------------------------------------------------


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
             ("lajas_blancas", "los_planes", "paso_canoas"), extras=(TRANSPORT_COMPANY,)),
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
             ("managua", "penas_blancas", "limon"), Case.HandlingCode.AMBER_STRICT),
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


def _ensure_agency(spec: AgencySpec) -> tuple[Agency, bool]:
    existing = Agency.objects.filter(country_id=spec.country, name=spec.name).first()
    if existing is not None:
        return existing, False
    agency = agency_services.agency_create(
        name=spec.name,
        country=Country.objects.get(pk=spec.country),
        kind=spec.kind,
        acronym=spec.acronym,
        contact_point=spec.contact_point,
    )
    return agency, True


class DemoConflict(Exception):
    """Existing data stands in the way of the demo (a demo username taken by someone else)."""


def _ensure_member(
    *, username: str, agency: Agency, roles: Sequence[str], names: tuple[str, str], password: str
) -> tuple[Any, bool]:
    """The user ``username`` (created as a member of ``agency`` if missing). ``password`` is
    an already hashed password, or "" for an unusable one."""
    user_model = get_user_model()
    user = user_model.objects.filter(username=username).first()
    if user is not None:
        if not Member.objects.filter(user=user, agency=agency).exists():
            raise DemoConflict(
                f"the user {username!r} exists but is not a member of {agency}; the demo needs "
                "that username for that agency."
            )
        return user, False
    user = user_model(
        username=username,
        first_name=names[0],
        last_name=names[1],
        email=f"{username}@casebook.example",
    )
    if password:
        user.password = password
    else:
        user.set_unusable_password()
    user.save()
    agency_services.member_enrol(actor=None, user=user, agency=agency, roles=roles)
    return user, True


def hashed_demo_password(password: str | None) -> str:
    """Hash the demo password once for all demo users (hashing is deliberately slow);
    "" when the users should get an unusable password."""
    return make_password(password) if password else ""


def _clamp(day: datetime.date) -> datetime.date:
    return min(day, timezone.localdate())


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
        agencies[spec.key], created = _ensure_agency(spec)
        result.agencies_created += created
    existing = get_user_model().objects.filter(username__in=DEMO_USERNAMES)
    missing = len(DEMO_USERNAMES) > existing.count()
    hashed = hashed_demo_password(password) if missing else ""
    users: dict[str, Any] = {}
    for member in MEMBERS:
        agency = agencies[member.agency]
        users[member.username], created = _ensure_member(
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
    rng = random.Random(DEMO_SEED)  # noqa: S311 (reproducible demo data, not a secret)
    for spec in tqdm(
        DEMO_CASES, desc="demo cases", unit="case", file=sys.stderr, disable=not progress
    ):
        _write_demo_case(rng, spec, agencies[spec.agency], users[CASE_AUTHORS[spec.agency]])
        result.cases_created += 1
    return result


def _write_demo_case(rng: random.Random, spec: DemoCase, agency: Agency, actor: Any) -> Case:
    opened_on = _clamp(spec.opened_on or _day(rng, FIRST_DEMO_DAY, LAST_DEMO_DAY))
    closed_on = None
    if spec.status == Case.Status.CLOSED:
        closed_on = _clamp(opened_on + datetime.timedelta(days=rng.randint(60, 400)))
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


def write_plan(*, actor: Any, case: Case, plan: ContentPlan) -> list[Entity]:
    """Write a plan through the services, as a user would. Returns the entities."""
    entities: list[Entity] = []
    for item in plan.entities:
        values = dict(item.values)
        if item.holder is not None:
            values["holder"] = entities[item.holder]
        entities.append(services.entity_add(actor=actor, case=case, kind=item.kind, **values))
    for rel in plan.relationships:
        services.relationship_add(
            actor=actor,
            case=case,
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
            actor=actor,
            case=case,
            origin=entities[move.origin],
            destination=entities[move.destination],
            moved_on=move.moved_on,
            means=move.means,
            people_count=move.people_count,
            facilitators=[entities[i] for i in move.facilitators],
            description=move.description,
        )
    for note in plan.notes:
        services.note_add(actor=actor, case=case, body=note.body, noted_on=note.noted_on)
    return entities


# --- synthetic cases for benchmarks --------------------------------------------------------

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
STATUS_WEIGHTS = ((OPEN, 25), (INV, 35), (PROS, 15), (CLOSED, 20), (Case.Status.ARCHIVED, 5))
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
    actor: Any


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
    return rng.randrange(len(owners)), _day(rng, SYNTHETIC_FIRST_DAY, LAST_DEMO_DAY)


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
        closed_on = _clamp(opened_on + datetime.timedelta(days=rng.randint(30, 700)))
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
            _ensure_member(
                username=f"synthetic{number:03d}.{role}",
                agency=agency,
                roles=(role,),
                names=("Synthetic", f"{role.title()} {number:03d}"),
                password="",
            )
    return created


def reserve_references(slots: Sequence[tuple[str, int]]) -> list[str]:
    """References for cases of the given (owner country, opening year), in order.

    Takes one block of numbers per country and year under the sequence row's lock, in one
    transaction, so the numbers never clash with ``cases.services.next_reference`` and are
    never reused (a batch that fails later leaves a gap, as a deleted case does).
    """
    wanted = Counter(slots)
    next_number: dict[tuple[str, int], int] = {}
    with transaction.atomic():
        for (country, year), count in sorted(wanted.items()):
            sequence, _created = ReferenceSequence.objects.select_for_update().get_or_create(
                country_id=country, year=year
            )
            next_number[(country, year)] = sequence.last_number + 1
            sequence.last_number += count
            sequence.save(update_fields=["last_number"])
    references = []
    for country, year in slots:
        references.append(f"{country}-{year}-{next_number[(country, year)]:05d}")
        next_number[(country, year)] += 1
    return references


def _attributed(objects: list[Any], actors: list[Any]) -> list[Any]:
    # bulk_create_with_history takes the history user from each object when it has one, so
    # every row is attributed to the member of the owning agency who "wrote" it.
    for obj, actor in zip(objects, actors, strict=True):
        obj._history_user = actor
    return objects


BULK_BATCH = 2000


def _bulk(model: Any, objects: list[Any], actors: list[Any]) -> list[Any]:
    if not objects:
        return []
    return bulk_create_with_history(
        _attributed(objects, actors), model, batch_size=BULK_BATCH, default_user=actors[0]
    )


@transaction.atomic
def write_synthetic_batch(plans: Sequence[CasePlan], references: Sequence[str]) -> list[Case]:
    """Write planned cases with bulk inserts in one transaction: cases, countries, owner
    grants, entities (holders first), match keys, relationships, movements with their
    facilitators, and notes, each audited model with its history rows."""
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
    cases = _bulk(Case, cases, actors)

    links, link_actors = [], []
    grants: list[CaseGroupObjectPermission] = []
    permission_ids = [permission_id(codename) for codename in services.OWNER_PERMISSIONS]
    for case, plan in zip(cases, plans, strict=True):
        for code in plan.countries:
            links.append(CaseCountry(case_id=case.pk, country_id=code))
            link_actors.append(plan.owner.actor)
        grants.extend(
            CaseGroupObjectPermission(
                content_object_id=case.pk, group_id=plan.owner.agency.group_id, permission_id=pid
            )
            for pid in permission_ids
        )
    _bulk(CaseCountry, links, link_actors)
    CaseGroupObjectPermission.objects.bulk_create(grants, batch_size=BULK_BATCH)
    bulk_write_content(
        [(case, plan.owner.actor, plan.content) for case, plan in zip(cases, plans, strict=True)]
    )
    return cases


def _protected_numbers(cases: Sequence[Case]) -> Counter[tuple[int, str]]:
    """The highest pseudonym number given so far per (case, protected role), in one query."""
    rows = (
        Entity.objects.filter(case__in=[case.pk for case in cases], role__in=Entity.PROTECTED_ROLES)
        .order_by()
        .values_list("case_id", "role")
        .annotate(highest=Max("protected_number"))
    )
    return Counter({(case_id, role): highest or 0 for case_id, role, highest in rows})


def bulk_write_content(items: Sequence[tuple[Case, Any, ContentPlan]]) -> list[list[Entity]]:
    """Write the content plans of existing cases with bulk inserts (history included).
    Call inside a transaction. Returns the entities of each case, in plan order."""
    # Holders (people, organisations) first, so the rest can point at them.
    per_case: list[list[Entity | None]] = [[None] * len(plan.entities) for _, _, plan in items]
    numbers = _protected_numbers([case for case, _actor, _plan in items])
    for holders_pass in (True, False):
        batch, actors, slots = [], [], []
        for index, (case, actor, plan) in enumerate(items):
            for position, item in enumerate(plan.entities):
                if (item.holder is None) != holders_pass:
                    continue
                values = dict(item.values)
                if item.holder is not None:
                    holder = per_case[index][item.holder]
                    values["holder_id"] = holder.pk if holder is not None else None
                entity = Entity(case_id=case.pk, kind=item.kind, created_by=actor, **values)
                if entity.role in Entity.PROTECTED_ROLES:
                    # As ``services.entity_add`` numbers them, in the order they are written.
                    numbers[(case.pk, entity.role)] += 1
                    entity.protected_number = numbers[(case.pk, entity.role)]
                batch.append(entity)
                actors.append(actor)
                slots.append((index, position))
        for entity, (index, position) in zip(_bulk(Entity, batch, actors), slots, strict=True):
            per_case[index][position] = entity
    entities = [[e for e in row if e is not None] for row in per_case]

    keys = []
    for (case, _actor, _plan), row in zip(items, entities, strict=True):
        region = case.owner_agency.country_id
        for entity in row:
            for key in matchkeys.keys_for_entity(
                kind=entity.kind,
                name=entity.name,
                aliases=entity.aliases,
                birth_date=entity.birth_date,
                identifier=entity.identifier,
                identifier_country=entity.identifier_country,
                subtype=entity.subtype,
                default_region=region,
            ):
                keys.append(MatchKey(entity_id=entity.pk, case_id=case.pk, key=key.key))
    MatchKey.objects.bulk_create(keys, batch_size=BULK_BATCH)

    relationships, rel_actors = [], []
    movements, move_actors, move_plans = [], [], []
    notes, note_actors = [], []
    for (case, actor, plan), row in zip(items, entities, strict=True):
        for rel in plan.relationships:
            relationships.append(
                Relationship(
                    case_id=case.pk,
                    source_id=row[rel.source].pk,
                    target_id=row[rel.target].pk,
                    kind=rel.kind,
                    started_on=rel.started_on,
                    evidence_note=rel.evidence_note,
                    source_reliability=rel.source_reliability,
                    information_assessment=rel.information_assessment,
                    created_by=actor,
                )
            )
            rel_actors.append(actor)
        for move in plan.movements:
            movements.append(
                Movement(
                    case_id=case.pk,
                    origin_id=row[move.origin].pk,
                    destination_id=row[move.destination].pk,
                    moved_on=move.moved_on,
                    means=move.means,
                    people_count=move.people_count,
                    description=move.description,
                    created_by=actor,
                )
            )
            move_actors.append(actor)
            move_plans.append((row, move))
        for note in plan.notes:
            notes.append(
                Note(case_id=case.pk, noted_on=note.noted_on, body=note.body, author=actor)
            )
            note_actors.append(actor)
    _bulk(Relationship, relationships, rel_actors)
    movements = _bulk(Movement, movements, move_actors)
    facilitators, facilitator_actors = [], []
    for movement, actor, (row, move) in zip(movements, move_actors, move_plans, strict=True):
        for index in move.facilitators:
            facilitators.append(
                MovementFacilitator(movement_id=movement.pk, entity_id=row[index].pk)
            )
            facilitator_actors.append(actor)
    _bulk(MovementFacilitator, facilitators, facilitator_actors)
    _bulk(Note, notes, note_actors)
    return entities


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
    references = reserve_references(slots)
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
