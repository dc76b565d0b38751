"""Match keys: one key for every way an officer may write the same identifier.

Pure functions: no database. Messages are rendered in English to check that they are clear.
"""

import datetime
from collections.abc import Callable
from typing import Any

import phonenumbers
import pytest
from django.utils import translation
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cases.matchkeys import (
    ACCOUNT_TYPES,
    DOCUMENT_TYPES,
    KEY_KINDS,
    NATIONAL_ID_VALIDATORS,
    ONLINE_PLATFORMS,
    IdentifierError,
    MatchKey,
    account_key,
    document_key,
    email_key,
    handle_key,
    keys_for_entity,
    name_key,
    phone_key,
    plate_key,
)

BIRTH = datetime.date(1990, 5, 17)
COSTA_RICAN_IBAN = "CR05 0152 0200 1026 2840 66"


def refusal(call: Callable[..., object], *args: Any, **kwargs: Any) -> tuple[str, str]:
    """The form field and the English message of the IdentifierError that ``call`` raises."""
    with translation.override("en"), pytest.raises(IdentifierError) as info:
        call(*args, **kwargs)
    with translation.override("en"):
        return info.value.field, str(info.value.message)


# Phones


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("6123-4567", "PA", "+50761234567"),
        ("8312 3456", "CR", "+50683123456"),
        ("321 123 4567", "CO", "+573211234567"),
        ("55 1234 5678", "MX", "+525512345678"),
        ("6123-4567", "pa", "+50761234567"),
    ],
)
def test_valid_phone_is_written_in_e164(raw: str, region: str, expected: str) -> None:
    assert phone_key(raw, default_region=region) == expected


@pytest.mark.parametrize(
    ("raw", "region"),
    [
        ("6123-456", "PA"),  # a digit short
        ("1234 5678", "PA"),  # no Panamanian number starts with 1
        ("1312 3456", "CR"),
        ("121 123 4567", "CO"),
        ("123", "MX"),
        ("call me", "PA"),
    ],
)
def test_invalid_phone_is_refused_on_identifier(raw: str, region: str) -> None:
    field, _message = refusal(phone_key, raw, default_region=region)
    assert field == "identifier"


def test_same_phone_written_three_ways_gives_one_key() -> None:
    keys = {
        phone_key("6123-4567", default_region="PA"),
        phone_key("+507 6123 4567", default_region="PA"),
        phone_key("00507 61234567", default_region="PA"),
    }
    assert keys == {"+50761234567"}


def test_explicit_country_prefix_ignores_default_region() -> None:
    assert phone_key("+506 8312 3456", default_region="PA") == "+50683123456"
    assert phone_key("+57 321 123 4567", default_region="MX") == "+573211234567"


def test_old_mexican_mobile_prefix_gives_same_key_as_current_form() -> None:
    assert phone_key("+52 1 55 1234 5678", default_region="") == "+525512345678"
    assert phone_key("1 55 1234 5678", default_region="MX") == "+525512345678"


def test_invalid_phone_message_names_the_country() -> None:
    assert refusal(phone_key, "6123-456", default_region="PA") == (
        "identifier",
        "This is not a valid phone number for Panama.",
    )


def test_invalid_phone_with_prefix_names_the_prefix_country_not_the_default() -> None:
    _field, message = refusal(phone_key, "+506 1312 3456", default_region="PA")
    assert "Costa Rica" in message


def test_phone_without_country_code_or_region_asks_for_the_country_code() -> None:
    field, message = refusal(phone_key, "6123 4567", default_region="")
    assert field == "identifier"
    assert "country code" in message


# Documents


@pytest.mark.parametrize("raw", ["P-12.345/678", "p 12345678", " P12345678 ", "p/1234-5678"])
def test_passport_number_is_compacted_without_separators(raw: str) -> None:
    assert document_key(raw, country="PA", document_type="passport") == "PA:P12345678"


def test_document_type_is_not_part_of_the_key() -> None:
    keys = {document_key("P12345678", country="pa", document_type=kind) for kind in DOCUMENT_TYPES}
    assert keys == {"PA:P12345678"}


@pytest.mark.parametrize("country", ["", "  ", "Panama", "P", "P1"])
def test_document_without_issuing_country_is_refused_on_identifier_country(country: str) -> None:
    field, _message = refusal(document_key, "P12345678", country=country, document_type="passport")
    assert field == "identifier_country"


@pytest.mark.parametrize("raw", ["", "--", "P#123", "Nº 123", "A" * 41])
def test_document_number_must_be_letters_and_digits(raw: str) -> None:
    field, _message = refusal(document_key, raw, country="PA", document_type="passport")
    assert field == "identifier"


@pytest.mark.parametrize("document_type", ["visa", ""])
def test_unknown_document_type_is_refused_on_subtype(document_type: str) -> None:
    field, _message = refusal(document_key, "P123", country="PA", document_type=document_type)
    assert field == "subtype"


@pytest.mark.parametrize(
    ("country", "raw", "expected"),
    [
        ("CR", "1-0234-0567", "CR:0102340567"),
        ("CR", "102340567", "CR:0102340567"),
        ("MX", "boxw310820hnerxn09", "MX:BOXW310820HNERXN09"),
        ("CL", "12.531.909-2", "CL:125319092"),
        ("CL", "10.000.013-k", "CL:10000013K"),
        ("EC", "1714307103", "EC:1714307103"),
        ("PE", "10117410", "PE:10117410"),
        ("PE", "10117410-2", "PE:10117410"),
        ("AR", "20.123.456", "AR:20123456"),
        ("BR", "390.533.447-05", "BR:39053344705"),
        ("DO", "001-1391820-5", "DO:00113918205"),
    ],
)
def test_valid_national_id_is_put_in_its_canonical_form(
    country: str, raw: str, expected: str
) -> None:
    assert document_key(raw, country=country, document_type="national_id") == expected


@pytest.mark.parametrize(
    ("country", "raw", "format_name"),
    [
        ("CR", "1-1234-12345", "Costa Rican cédula"),
        ("MX", "BOXW310820HNERXN08", "CURP"),
        ("CL", "12.531.909-3", "RUT"),
        ("EC", "1714307104", "Ecuadorian cédula"),
        ("PE", "101174103", "Peruvian DNI"),
        ("AR", "123", "Argentine DNI"),
        ("BR", "390.533.447-06", "CPF"),
        ("DO", "001-1391820-4", "Dominican cédula"),
    ],
)
def test_invalid_national_id_is_refused_naming_the_format(
    country: str, raw: str, format_name: str
) -> None:
    field, message = refusal(document_key, raw, country=country, document_type="national_id")
    assert field == "identifier"
    assert format_name in message


def test_colombian_cedula_is_not_checked_as_a_tax_number() -> None:
    assert "CO" not in NATIONAL_ID_VALIDATORS
    key = document_key("1.020.304.050", country="CO", document_type="national_id")
    assert key == "CO:1020304050"


def test_only_personal_national_identity_numbers_are_validated() -> None:
    modules = {code: module.__name__ for code, module in NATIONAL_ID_VALIDATORS.items()}
    assert modules == {
        "AR": "stdnum.ar.dni",
        "BR": "stdnum.br.cpf",
        "CL": "stdnum.cl.rut",
        "CR": "stdnum.cr.cpf",
        "DO": "stdnum.do.cedula",
        "EC": "stdnum.ec.ci",
        "MX": "stdnum.mx.curp",
        "PE": "stdnum.pe.cui",
    }


def test_cedula_recorded_as_another_document_type_matches_the_national_id() -> None:
    as_id = document_key("1-0234-0567", country="CR", document_type="national_id")
    assert document_key("102340567", country="CR", document_type="passport") == as_id


def test_other_document_in_a_validated_country_is_not_refused() -> None:
    key = document_key("1-1234-12345", country="CR", document_type="residence_permit")
    assert key == "CR:1123412345"


# Accounts


def test_iban_is_validated_and_compacted() -> None:
    key = "IBAN:CR05015202001026284066"
    assert account_key(COSTA_RICAN_IBAN, account_type="iban") == key
    assert account_key(COSTA_RICAN_IBAN.lower(), account_type="iban") == key


@pytest.mark.parametrize("raw", ["CR06 0152 0200 1026 2840 66", "CR05 0152 0200 1026 2840 6", ""])
def test_invalid_iban_is_refused(raw: str) -> None:
    field, message = refusal(account_key, raw, account_type="iban")
    assert field == "identifier"
    assert "IBAN" in message


def test_bank_account_is_compacted_under_its_country() -> None:
    key = account_key("001-234 567/8", account_type="bank_account", country="pa")
    assert key == "PA:0012345678"


def test_bank_account_without_country_is_refused_on_identifier_country() -> None:
    field, _message = refusal(account_key, "0012345678", account_type="bank_account")
    assert field == "identifier_country"


@pytest.mark.parametrize("raw", ["4111 1111 1111 1111", "4111-1111-1111-1111", "4111111111111111"])
def test_card_number_keeps_only_digits(raw: str) -> None:
    assert account_key(raw, account_type="card") == "CARD:4111111111111111"


@pytest.mark.parametrize("raw", ["4111 1111 1111 1112", "0", "4111 1111 ABCD 1111"])
def test_invalid_card_number_is_refused(raw: str) -> None:
    field, _message = refusal(account_key, raw, account_type="card")
    assert field == "identifier"


def test_ethereum_wallet_is_case_insensitive() -> None:
    mixed = " 0x52908400098527886E0F7030069857D2E4169EE7 "
    key = account_key(mixed, account_type="crypto_wallet")
    assert key == "WALLET:0x52908400098527886e0f7030069857d2e4169ee7"
    assert account_key(mixed.lower(), account_type="crypto_wallet") == key


def test_bech32_wallet_is_lower_cased() -> None:
    raw = "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4"
    key = account_key(raw, account_type="crypto_wallet")
    assert key == "WALLET:bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"


def test_base58_wallet_keeps_its_case() -> None:
    raw = "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"
    assert account_key(raw, account_type="crypto_wallet") == f"WALLET:{raw}"


@pytest.mark.parametrize("raw", ["1BoatSLRHtKNngkd XEeobR76b53LETtpyT", "0x1234", ""])
def test_wallet_with_inner_space_or_too_short_is_refused(raw: str) -> None:
    field, _message = refusal(account_key, raw, account_type="crypto_wallet")
    assert field == "identifier"


@pytest.mark.parametrize("account_type", ["cash", ""])
def test_unknown_account_type_is_refused_on_subtype(account_type: str) -> None:
    assert account_type not in ACCOUNT_TYPES
    field, _message = refusal(account_key, "123", account_type=account_type, country="PA")
    assert field == "subtype"


# Plates, e-mail, handles


@pytest.mark.parametrize("raw", ["abc-123", "ABC 123", " a.b.c 1-2-3 "])
def test_plate_keeps_only_letters_and_digits(raw: str) -> None:
    assert plate_key(raw, country="cr") == "CR:ABC123"


def test_plate_without_country_is_refused_on_identifier_country() -> None:
    field, _message = refusal(plate_key, "ABC123", country="")
    assert field == "identifier_country"


def test_plate_without_letters_or_digits_is_refused() -> None:
    field, _message = refusal(plate_key, " - ", country="CR")
    assert field == "identifier"


def test_email_is_lower_cased_whole() -> None:
    assert email_key("  Juan.Perez@Example.ORG ") == "juan.perez@example.org"


@pytest.mark.parametrize(
    "raw", ["not-an-email", "juan@example", "juan@@example.org", "juan perez@example.org", ""]
)
def test_text_that_is_not_an_email_is_refused(raw: str) -> None:
    field, message = refusal(email_key, raw)
    assert field == "identifier"
    assert "e-mail" in message


def test_handle_drops_at_sign_and_case() -> None:
    assert handle_key("@Juan_P", platform="telegram") == "telegram:juan_p"
    assert handle_key("  juan_p ", platform="telegram") == "telegram:juan_p"


def test_same_handle_on_two_platforms_gives_two_keys() -> None:
    assert handle_key("juan_p", platform="instagram") != handle_key("juan_p", platform="tiktok")


def test_empty_handle_is_refused() -> None:
    field, _message = refusal(handle_key, " @ ", platform="x")
    assert field == "identifier"


@pytest.mark.parametrize("platform", ["email", "myspace", ""])
def test_handle_on_unknown_platform_is_refused_on_subtype(platform: str) -> None:
    field, _message = refusal(handle_key, "juan_p", platform=platform)
    assert field == "subtype"


# Names


@pytest.mark.parametrize(
    "raw",
    ["Pérez, José María", "jose maria perez", "  JOSÉ   MARÍA  PÉREZ. ", "María-José Pérez"],
)
def test_name_ignores_accents_case_order_and_punctuation(raw: str) -> None:
    assert name_key(raw, birth_date=None) == "jose maria perez"


def test_enye_folds_to_n() -> None:
    assert name_key("Íñigo MUÑOZ", birth_date=None) == "inigo munoz"


def test_apostrophe_joins_the_name() -> None:
    assert name_key("Ana O'Brien", birth_date=None) == name_key("ana obrien", birth_date=None)


def test_birth_date_is_appended() -> None:
    assert name_key("Pérez, José", birth_date=BIRTH) == "jose perez|1990-05-17"


def test_same_name_with_other_birth_date_gives_other_key() -> None:
    other = datetime.date(1991, 5, 17)
    assert name_key("José Pérez", birth_date=BIRTH) != name_key("José Pérez", birth_date=other)


@pytest.mark.parametrize("raw", ["", "   ", " ,.- '"])
def test_name_without_letters_has_no_key(raw: str) -> None:
    assert name_key(raw, birth_date=BIRTH) is None


def test_name_in_another_script_is_transliterated() -> None:
    key = name_key("Мария Иванова", birth_date=None)
    assert key is not None
    assert key.isascii()


# keys_for_entity


def test_person_gets_one_key_per_name_and_alias_deduplicated() -> None:
    keys = keys_for_entity(
        kind="person",
        name="José Pérez",
        aliases="Pérez José\n\n  El Flaco \nJOSE PEREZ\n",
        birth_date=BIRTH,
    )
    assert keys == [
        MatchKey("name", "jose perez|1990-05-17"),
        MatchKey("name", "el flaco|1990-05-17"),
    ]


def test_person_without_name_has_no_keys() -> None:
    assert keys_for_entity(kind="person", name=" ", birth_date=BIRTH) == []


def test_organisation_name_is_prefixed_so_it_never_matches_a_person() -> None:
    org = keys_for_entity(kind="organisation", name="Transportes Pérez", birth_date=BIRTH)
    person = keys_for_entity(kind="person", name="Transportes Pérez")
    assert org == [MatchKey("name", "org:perez transportes")]
    assert org[0].key != person[0].key


def test_phone_entity_uses_its_country_before_the_case_region() -> None:
    assert keys_for_entity(kind="phone", identifier="6123-4567", default_region="PA") == [
        MatchKey("phone", "+50761234567")
    ]
    keys = keys_for_entity(
        kind="phone", identifier="8312 3456", identifier_country="CR", default_region="PA"
    )
    assert keys == [MatchKey("phone", "+50683123456")]


@pytest.mark.parametrize("kind", ["phone", "account", "document", "online"])
def test_entity_without_its_identifier_is_refused(kind: str) -> None:
    field, _message = refusal(
        keys_for_entity, kind=kind, identifier=" ", identifier_country="PA", subtype="other"
    )
    assert field == "identifier"


def test_vehicle_without_plate_has_no_keys() -> None:
    assert keys_for_entity(kind="vehicle", name="White Toyota Hiace") == []


def test_vehicle_with_plate_gets_a_plate_key() -> None:
    keys = keys_for_entity(kind="vehicle", identifier="abc-123", identifier_country="CR")
    assert keys == [MatchKey("plate", "CR:ABC123")]


def test_vehicle_plate_without_country_is_refused_on_identifier_country() -> None:
    field, _message = refusal(keys_for_entity, kind="vehicle", identifier="ABC123")
    assert field == "identifier_country"


def test_account_entity_gets_an_account_key() -> None:
    keys = keys_for_entity(kind="account", identifier=COSTA_RICAN_IBAN, subtype="iban")
    assert keys == [MatchKey("account", "IBAN:CR05015202001026284066")]


def test_document_entity_gets_a_document_key() -> None:
    keys = keys_for_entity(
        kind="document", identifier="P-1234567", identifier_country="PA", subtype="passport"
    )
    assert keys == [MatchKey("document", "PA:P1234567")]


def test_document_entity_without_issuing_country_is_refused_on_identifier_country() -> None:
    field, _message = refusal(
        keys_for_entity, kind="document", identifier="P-1234567", subtype="passport"
    )
    assert field == "identifier_country"


def test_online_entity_gets_email_or_handle_key_by_subtype() -> None:
    email = keys_for_entity(kind="online", identifier="Juan@Example.org", subtype="email")
    handle = keys_for_entity(kind="online", identifier="@Juan_P", subtype="whatsapp")
    assert email == [MatchKey("email", "juan@example.org")]
    assert handle == [MatchKey("handle", "whatsapp:juan_p")]
    assert "email" in ONLINE_PLATFORMS


@pytest.mark.parametrize("kind", ["account", "document", "online"])
def test_entity_without_its_type_is_refused_on_subtype(kind: str) -> None:
    field, _message = refusal(
        keys_for_entity, kind=kind, identifier="P-1234567", identifier_country="PA"
    )
    assert field == "subtype"


def test_location_has_no_keys() -> None:
    assert keys_for_entity(kind="location", name="Paso Canoas", identifier="8.53,-82.84") == []


def test_unknown_entity_kind_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="entity kind") as info:
        keys_for_entity(kind="animal", name="Rex")
    assert not isinstance(info.value, IdentifierError)


def test_alias_too_long_for_the_index_is_refused_on_aliases() -> None:
    field, _message = refusal(keys_for_entity, kind="person", name="Ana", aliases="b" * 300)
    assert field == "aliases"


def test_match_key_is_kind_and_value() -> None:
    assert MatchKey("phone", "+50761234567").key == "phone:+50761234567"
    assert set(KEY_KINDS) == {"phone", "document", "account", "plate", "email", "handle", "name"}


def test_identifier_error_is_a_value_error_with_its_field() -> None:
    error = IdentifierError("identifier_country", "Choose the issuing country.")
    assert isinstance(error, ValueError)
    assert error.field == "identifier_country"
    assert error.message == "Choose the issuing country."


# Properties

LATIN_LETTERS = "abcdefghijklmnopqrstuvwxyzáéíóúüñçãõâêôàèìòùäëïö"
name_tokens = st.lists(st.text(LATIN_LETTERS, min_size=1, max_size=12), min_size=1, max_size=6)


@given(tokens=name_tokens, data=st.data())
def test_name_key_ignores_token_order_and_case(tokens: list[str], data: st.DataObject) -> None:
    shuffled = data.draw(st.permutations(tokens))
    recased = [
        data.draw(st.sampled_from([token.upper(), token.title(), token.lower()]))
        for token in shuffled
    ]
    assert name_key(", ".join(recased), birth_date=BIRTH) == name_key(
        " ".join(tokens), birth_date=BIRTH
    )


@given(st.text())
def test_name_key_of_a_name_key_is_itself(raw: str) -> None:
    key = name_key(raw, birth_date=None)
    assume(key is not None)
    assert key is not None  # for the type checker
    assert name_key(key, birth_date=None) == key


phone_regions = st.sampled_from(sorted(phonenumbers.SUPPORTED_REGIONS))
phone_types = st.sampled_from(
    [phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE]
)


@settings(deadline=None)  # the first parse of a region loads its metadata
@given(source=phone_regions, number_type=phone_types, target=phone_regions)
def test_e164_phone_key_is_the_same_for_any_default_region(
    source: str, number_type: int, target: str
) -> None:
    example = phonenumbers.example_number_for_type(source, number_type)
    assume(example is not None)
    assert example is not None  # for the type checker
    e164 = phone_key(
        phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164),
        default_region=source,
    )
    assert phone_key(e164, default_region=target) == e164
    assert phone_key(e164, default_region="") == e164


@given(
    number=st.text(max_size=50),
    country=st.sampled_from([*NATIONAL_ID_VALIDATORS, "PA", "CO"]),
    document_type=st.sampled_from(DOCUMENT_TYPES),
)
def test_document_key_refuses_only_with_identifier_error(
    number: str, country: str, document_type: str
) -> None:
    try:
        key = document_key(number, country=country, document_type=document_type)
    except IdentifierError as error:
        assert error.field in {"identifier", "identifier_country"}
    else:
        assert key.startswith(f"{country}:")
        assert len(key) <= 43
