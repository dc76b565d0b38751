"""Match keys: the normalised form of every identifying value of a case entity.

Two entities in different cases that share a ``MatchKey.key`` are a cross-case match, so every
function here must give one output for all the ways an officer may write the same value. Pure
Python: no ORM; Django settings are only needed to render the translated error messages.
"""

import datetime
import re
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING

import phonenumbers
from anyascii import anyascii
from django.utils.translation import gettext_lazy as _
from stdnum import iban, luhn
from stdnum.ar import dni as ar_dni
from stdnum.br import cpf as br_cpf
from stdnum.cl import rut as cl_rut
from stdnum.cr import cpf as cr_cpf
from stdnum.do import cedula as do_cedula
from stdnum.ec import ci as ec_ci
from stdnum.exceptions import ValidationError
from stdnum.mx import curp as mx_curp
from stdnum.pe import cui as pe_cui

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise

KEY_KINDS = ("phone", "document", "account", "plate", "email", "handle", "name")
DOCUMENT_TYPES = ("passport", "national_id", "residence_permit", "driving_licence", "other")
ACCOUNT_TYPES = ("iban", "bank_account", "card", "crypto_wallet")
_HANDLE_PLATFORMS = ("whatsapp", "telegram", "facebook", "instagram", "tiktok", "x", "other")
ONLINE_PLATFORMS = ("email", *_HANDLE_PLATFORMS)
MAX_KEY_LENGTH = 255  # the indexed column

# Only numbers of a person's national identity document. Deliberately left out although stdnum
# has them: tax numbers (CO/GT/SV NIT, UY RUT, VE RIF, PY RUC: companies have them too, and the
# Colombian cedula itself has no check digit) and US SSN / CA SIN (no national identity card;
# an officer's "national ID" there is usually a state or provincial card).
NATIONAL_ID_VALIDATORS: dict[str, ModuleType] = {
    "AR": ar_dni, "BR": br_cpf, "CL": cl_rut, "CR": cr_cpf,
    "DO": do_cedula, "EC": ec_ci, "MX": mx_curp, "PE": pe_cui,
}  # fmt: skip
_NATIONAL_ID_FORMATS = {
    "AR": _("Argentine DNI (7 or 8 digits, e.g. 20.123.456)"),
    "BR": _("Brazilian CPF (11 digits, e.g. 390.533.447-05)"),
    "CL": _("Chilean RUN/RUT (digits and a check digit 0-9 or K, e.g. 12.531.909-2)"),
    "CR": _("Costa Rican cédula de identidad (e.g. 1-0234-0567)"),
    "DO": _("Dominican cédula (11 digits, e.g. 001-1391820-5)"),
    "EC": _("Ecuadorian cédula de identidad (10 digits, e.g. 1714307103)"),
    "MX": _("Mexican CURP (18 letters and digits, e.g. BOXW310820HNERXN09)"),
    "PE": _("Peruvian DNI (8 digits, e.g. 10117410)"),
}
_COUNTRY_NAMES = {
    "AR": _("Argentina"), "BO": _("Bolivia"), "BR": _("Brazil"), "BZ": _("Belize"),
    "CA": _("Canada"), "CL": _("Chile"), "CO": _("Colombia"), "CR": _("Costa Rica"),
    "CU": _("Cuba"), "DO": _("the Dominican Republic"), "EC": _("Ecuador"),
    "GT": _("Guatemala"), "GY": _("Guyana"), "HN": _("Honduras"), "HT": _("Haiti"),
    "MX": _("Mexico"), "NI": _("Nicaragua"), "PA": _("Panama"), "PE": _("Peru"),
    "PY": _("Paraguay"), "SR": _("Suriname"), "SV": _("El Salvador"),
    "US": _("the United States"), "UY": _("Uruguay"), "VE": _("Venezuela"),
}  # fmt: skip

_SEPARATORS = re.compile(r"[\s./-]+")
_ALNUM = re.compile(r"[A-Z0-9]+")
_ETHEREUM = re.compile(r"0x[0-9a-f]{40}", re.IGNORECASE)
_BECH32_PREFIXES = ("bc1", "tb1", "ltc1")
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")


@dataclass(frozen=True)
class MatchKey:
    kind: str  # one of KEY_KINDS
    value: str

    @property
    def key(self) -> str:
        """What is stored in the indexed column; at most MAX_KEY_LENGTH characters."""
        return f"{self.kind}:{self.value}"


class IdentifierError(ValueError):
    """A value an officer typed cannot be normalised; show ``message`` on form field ``field``.

    ``field`` is an Entity field: "identifier", "identifier_country", "subtype" (a type, account
    type or platform outside DOCUMENT_TYPES, ACCOUNT_TYPES, ONLINE_PLATFORMS), "name", "aliases".
    """

    def __init__(self, field: str, message: "_StrOrPromise") -> None:
        super().__init__(field, message)
        self.field = field
        self.message = message

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


def _country(country: str) -> str:
    """Upper-case ISO 3166 alpha-2 code, or IdentifierError on ``identifier_country``."""
    code = country.strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", code):
        raise IdentifierError("identifier_country", _("Choose the issuing country."))
    return code


def _compact(raw: str, *, max_length: int = 40) -> str:
    """Upper-case letters and digits without spaces, dots, dashes and slashes."""
    value = _SEPARATORS.sub("", raw).upper()
    if not _ALNUM.fullmatch(value) or len(value) > max_length:
        raise IdentifierError(
            "identifier", _("Enter letters and digits only, at most %(max)d.") % {"max": max_length}
        )
    return value


def phone_key(raw: str, *, default_region: str) -> str:
    """E.164 form ("+50761234567"). A "+" prefix in ``raw`` wins over ``default_region``."""
    region = default_region.strip().upper() or None
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        number = None
    # Mexican mobiles were written "+52 1 ..." until 2019, and old records still carry the 1.
    if number is not None and number.country_code == 52 and len(str(number.national_number)) == 11:
        number.national_number = int(str(number.national_number).removeprefix("1"))
    if number is not None and phonenumbers.is_valid_number(number):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    # Name the country the number was read for, which is not the default one after a "+".
    code = region
    if number is not None and number.country_code:
        code = phonenumbers.region_code_for_country_code(number.country_code)
    if not code:
        raise IdentifierError(
            "identifier", _("Write the number with its country code, e.g. +507 6123 4567.")
        )
    country = _COUNTRY_NAMES.get(code, code)
    message = _("This is not a valid phone number for %(country)s.") % {"country": country}
    raise IdentifierError("identifier", message)


def document_key(number: str, *, country: str, document_type: str) -> str:
    """``"<CC>:<NUMBER>"`` for a document issued by ``country``.

    The type is not part of the key because agencies record the same number under different
    types. For the same reason a number in the valid format of the country's national identity
    number is put in that canonical form whatever its type; only ``national_id`` is refused when
    it does not validate.
    """
    if document_type not in DOCUMENT_TYPES:
        raise IdentifierError("subtype", _("Choose the type of document."))
    code = _country(country)
    validator = NATIONAL_ID_VALIDATORS.get(code)
    if validator is not None:
        try:
            # stdnum gets the raw text: the Costa Rican cédula pads each dash-separated part.
            value: str = validator.validate(number.strip())
        except ValidationError as exc:
            if document_type == "national_id":
                fmt = _NATIONAL_ID_FORMATS[code]
                message = _("This is not a valid %(format)s.") % {"format": fmt}
                raise IdentifierError("identifier", message) from exc
        else:
            # The Peruvian DNI is written with or without its check digit.
            return f"{code}:{value[:8] if code == 'PE' else value}"
    return f"{code}:{_compact(number)}"


def account_key(raw: str, *, account_type: str, country: str = "") -> str:
    """IBAN, bank account, card number or crypto wallet address, prefixed by what it is."""
    if account_type == "iban":
        try:
            return f"IBAN:{iban.validate(raw)}"
        except ValidationError as exc:
            message = _("This is not a valid IBAN (like CR05 0152 0200 1026 2840 66).")
            raise IdentifierError("identifier", message) from exc
    if account_type == "bank_account":
        code = _country(country)
        return f"{code}:{_compact(raw)}"
    if account_type == "card":
        digits = _SEPARATORS.sub("", raw)
        well_formed = digits.isascii() and digits.isdigit() and 12 <= len(digits) <= 19
        if not (well_formed and luhn.is_valid(digits)):
            message = _("This is not a valid card number: 12 to 19 digits, the last a check digit.")
            raise IdentifierError("identifier", message)
        return f"CARD:{digits}"
    if account_type != "crypto_wallet":
        raise IdentifierError("subtype", _("Choose the type of account."))
    wallet = raw.strip()
    if re.search(r"\s", wallet) or not 20 <= len(wallet) <= 128:
        message = _("A wallet address is a single word of 20 to 128 characters, without spaces.")
        raise IdentifierError("identifier", message)
    # Hex and bech32 addresses are case-insensitive; base58 ones (1..., 3..., T...) are not.
    if _ETHEREUM.fullmatch(wallet) or wallet.lower().startswith(_BECH32_PREFIXES):
        wallet = wallet.lower()
    return f"WALLET:{wallet}"


def plate_key(raw: str, *, country: str) -> str:
    """``"<CC>:<PLATE>"``: only A-Z and 0-9 kept, so "ABC-123" and "abc 123" match."""
    code = _country(country)
    plate = re.sub(r"[^A-Z0-9]", "", raw.upper())
    if not plate or len(plate) > 20:
        raise IdentifierError("identifier", _("Enter the licence plate."))
    return f"{code}:{plate}"


def email_key(raw: str) -> str:
    """The whole address lower-cased (providers ignore case in practice, also before the @)."""
    value = raw.strip().lower()
    if len(value) > 254 or not _EMAIL.fullmatch(value):
        raise IdentifierError("identifier", _("This is not an e-mail address (name@example.org)."))
    return value


def handle_key(raw: str, *, platform: str) -> str:
    """``"<platform>:<handle>"``; "@Juan_P" and "juan_p" match."""
    if platform not in _HANDLE_PLATFORMS:
        raise IdentifierError("subtype", _("Choose the platform."))
    handle = " ".join(raw.strip().lstrip("@").lower().split())
    if not handle:
        raise IdentifierError("identifier", _("Enter the user name or handle."))
    return f"{platform}:{handle}"


def name_key(name: str, *, birth_date: datetime.date | None) -> str | None:
    """Accent-, case-, punctuation- and order-insensitive name, plus ``|YYYY-MM-DD`` if known.

    "Pérez, José María" and "jose maria perez" give "jose maria perez". None when the name
    has no letters or digits.
    """
    # Apostrophes join (O'Brien = OBrien); other punctuation separates (García-López).
    folded = anyascii(name).lower().replace("'", "")
    tokens = sorted(re.findall(r"[a-z0-9]+", folded))
    if not tokens:
        return None
    key = " ".join(tokens)
    return f"{key}|{birth_date.isoformat()}" if birth_date else key


def keys_for_entity(
    *,
    kind: str,
    name: str = "",
    aliases: str = "",
    birth_date: datetime.date | None = None,
    identifier: str = "",
    identifier_country: str = "",
    subtype: str = "",
    default_region: str = "",
) -> list[MatchKey]:
    """All match keys of one entity, deduplicated, in a stable order.

    ``kind`` is an ``Entity.Kind`` value (plain ValueError otherwise: a programming error). Raises
    IdentifierError, naming the field to show it on, when a value cannot be normalised or a
    required one is blank.
    """
    found: list[tuple[str, MatchKey]] = []  # (form field, key) for the length check
    country = identifier_country
    if kind in {"phone", "account", "document", "online"} and not identifier.strip():
        raise IdentifierError("identifier", _("This field is required."))
    if kind == "person":
        lines = [("name", name), *(("aliases", line) for line in aliases.splitlines())]
        for field, text in lines:
            if (value := name_key(text, birth_date=birth_date)) is not None:
                found.append((field, MatchKey("name", value)))
    elif kind == "organisation":
        if (value := name_key(name, birth_date=None)) is not None:
            found.append(("name", MatchKey("name", f"org:{value}")))
    elif kind == "phone":
        value = phone_key(identifier, default_region=country or default_region)
        found.append(("identifier", MatchKey("phone", value)))
    elif kind == "account":
        value = account_key(identifier, account_type=subtype, country=country)
        found.append(("identifier", MatchKey("account", value)))
    elif kind == "document":
        value = document_key(identifier, country=country, document_type=subtype)
        found.append(("identifier", MatchKey("document", value)))
    elif kind == "online" and subtype == "email":
        found.append(("identifier", MatchKey("email", email_key(identifier))))
    elif kind == "online":
        found.append(("identifier", MatchKey("handle", handle_key(identifier, platform=subtype))))
    elif kind == "vehicle" and identifier.strip():
        found.append(("identifier", MatchKey("plate", plate_key(identifier, country=country))))
    elif kind not in {"vehicle", "location"}:
        raise ValueError(f"Unknown entity kind {kind!r}")
    for field, match_key in found:
        if len(match_key.key) > MAX_KEY_LENGTH:
            raise IdentifierError(field, _("This value is too long to compare with other cases."))
    return list(dict.fromkeys(match_key for _field, match_key in found))
