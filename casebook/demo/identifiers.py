"""Fictitious people, organisations and identifiers (phones, IBANs, documents, plates) in the
formats of their countries, and the identifiers deliberately shared between cases of
different agencies so that cross-agency matches exist."""

import datetime
import random

import phonenumbers

from cases import matchkeys

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


def fill_pattern(rng: random.Random, fmt: str) -> str:
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
    return format_iban(
        iban_with_check(country, fill_pattern(rng, layout.format(bank=rng.choice(banks))))
    )


def passport_number(rng: random.Random, country: str) -> str:
    return fill_pattern(rng, PASSPORT_FORMATS.get(country, "L#######"))


def plate_number(rng: random.Random, country: str) -> str:
    return fill_pattern(rng, PLATE_FORMATS.get(country, "LLL###"))


# Identifiers deliberately shared between cases of different agencies. Each case writes them
# its own way (spacing, dashes, case), as officers do; the match keys are the same.
SHARED_PHONE_PA_CR = "+507 6481-2730"  # SENAFRONT (Darién guide) and OIJ (Paso Canoas taxis)
SHARED_PASSPORT_PA_CR = ("AQ517204", "CO")  # the same guide, in both cases
SHARED_PHONE_CO_PA = "+57 314 582 9071"  # DIJIN (boat cooperative) and Panama's prosecution
# A victim's phone in OIJ's case, and the same number among the contacts of a recruiter's
# phone seized by SENAFRONT: a match on a protected identity, told to OIJ only (its policy).
SHARED_VICTIM_PHONE_CR_PA = "+505 8734 1296"
# The account of the IBAN registry's Costa Rican example: fictitious by construction.
SHARED_IBAN_CR_PA = format_iban(iban_with_check("CR", "015202001026284066"))
SHARED_PERSON_GT_MX = ("Marvin Estuardo López Coj", datetime.date(1984, 3, 12))
SHARED_ORGANISATION_CO_PA = "Cooperativa de Lancheros del Golfo de Urabá"


def _key(*, kind: str, identifier: str, identifier_country: str = "", subtype: str = "") -> str:
    """The one match key of an entity of ``kind`` with this identifier, by the mapping that
    ``services.entity_match_keys`` uses (which adds the owner's country as default region)."""
    (key,) = matchkeys.keys_for_entity(
        kind=kind, identifier=identifier, identifier_country=identifier_country, subtype=subtype
    )
    return key.key


def shared_match_keys() -> dict[str, str]:
    """The match keys of the deliberately shared identifiers, as the demo cases enter them."""
    return {
        "phone_pa_cr": _key(kind="phone", identifier=SHARED_PHONE_PA_CR, identifier_country="PA"),
        "passport_pa_cr": _key(
            kind="document",
            subtype="passport",
            identifier=SHARED_PASSPORT_PA_CR[0],
            identifier_country=SHARED_PASSPORT_PA_CR[1],
        ),
        "phone_co_pa": _key(kind="phone", identifier=SHARED_PHONE_CO_PA, identifier_country="CO"),
        "victim_phone_cr_pa": _key(
            kind="phone", identifier=SHARED_VICTIM_PHONE_CR_PA, identifier_country="NI"
        ),
        "iban_cr_pa": _key(kind="account", subtype="iban", identifier=SHARED_IBAN_CR_PA),
    }
