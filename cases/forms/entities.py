"""Entity forms: one ModelForm per kind of entity, with only the fields that kind uses.

The forms check what a single field can tell (required values, dates, coordinates); the match
key rules (a valid phone for its country, an IBAN's checksum, a national ID's format) live in
``cases.services`` and come back as a ``ValidationError`` keyed by field, which
``add_service_errors`` puts next to the right field.
"""

import datetime
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import Field
from django.utils import formats, timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from casebook.forms import StyledFormMixin
from cases import matchkeys, selectors
from cases.countries import country_choices, country_name
from cases.models import Entity
from cases.permissions import CaseAccess

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise as Text
else:
    Text = str

# Django's model forms and choice fields are generic only in django-stubs: subscripted for
# mypy, plain at run time (where ``ModelForm[Entity]`` would raise).
if TYPE_CHECKING:
    _EntityModelForm = forms.ModelForm[Entity]
    _EntityChoiceField = forms.ModelChoiceField[Entity]
else:
    _EntityModelForm = forms.ModelForm
    _EntityChoiceField = forms.ModelChoiceField

Kind = Entity.Kind

# The model fields each kind uses, in the order the form shows them.
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    Kind.PERSON: ("role", "name", "aliases", "birth_date", "nationality", "description"),
    Kind.ORGANISATION: ("role", "name", "description"),
    Kind.PHONE: ("role", "identifier", "identifier_country", "holder", "description"),
    Kind.VEHICLE: (
        "role", "name", "subtype", "identifier", "identifier_country", "holder", "description",
    ),
    Kind.ACCOUNT: (
        "role", "subtype", "identifier", "identifier_country", "holder", "description",
    ),
    Kind.DOCUMENT: (
        "role", "subtype", "identifier", "identifier_country", "holder", "description",
    ),
    Kind.ONLINE: ("role", "subtype", "identifier", "holder", "description"),
    Kind.LOCATION: (
        "role", "name", "subtype", "identifier_country", "latitude", "longitude", "description",
    ),
}  # fmt: skip

# Fields a kind cannot do without (the service also refuses a blank identifier).
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    Kind.PERSON: ("name",),
    Kind.ORGANISATION: ("name",),
    Kind.PHONE: ("identifier",),
    Kind.VEHICLE: (),
    Kind.ACCOUNT: ("subtype", "identifier"),
    Kind.DOCUMENT: ("subtype", "identifier", "identifier_country"),
    Kind.ONLINE: ("subtype", "identifier"),
    Kind.LOCATION: ("name", "subtype"),
}

LABELS: dict[str, dict[str, Text]] = {
    Kind.PERSON: {"name": _("Full name"), "nationality": _("Nationality")},
    Kind.ORGANISATION: {"name": _("Name")},
    Kind.PHONE: {
        "identifier": _("Phone number"),
        "identifier_country": _("Region"),
        "holder": _("Used by"),
    },
    Kind.VEHICLE: {
        "name": _("Make, model and colour"),
        "subtype": _("Vehicle type"),
        "identifier": _("Plate"),
        "identifier_country": _("Country of registration"),
        "holder": _("Owner or user"),
    },
    Kind.ACCOUNT: {
        "subtype": _("Account type"),
        "identifier": _("Account number, IBAN, card number or wallet address"),
        "identifier_country": _("Country of the bank"),
        "holder": _("Account holder"),
    },
    Kind.DOCUMENT: {
        "subtype": _("Document type"),
        "identifier": _("Document number"),
        "identifier_country": _("Issuing country"),
        "holder": _("Holder"),
    },
    Kind.ONLINE: {
        "subtype": _("Platform"),
        "identifier": _("Address or handle"),
        "holder": _("Used by"),
    },
    Kind.LOCATION: {
        "name": _("Name of the place"),
        "subtype": _("Kind of place"),
        "identifier_country": _("Country"),
    },
}

HELP_TEXTS: dict[str, dict[str, Text]] = {
    Kind.PERSON: {"aliases": _("Other names, nicknames or spellings, one per line.")},
    Kind.PHONE: {
        "identifier": _("As written, e.g. 6123-4567 or +507 6123 4567."),
        "identifier_country": _(
            "The country the number belongs to, used when it is written without its country code."
        ),
    },
    Kind.VEHICLE: {
        "name": _("For example: white Toyota Hilux."),
        "identifier": _("Leave empty if the plate is not known."),
    },
    Kind.ACCOUNT: {
        "identifier": _("As written; spaces and dashes are ignored."),
        "identifier_country": _("Needed for a national bank account number."),
    },
    Kind.DOCUMENT: {"identifier": _("As printed on the document; spaces and dashes are ignored.")},
    Kind.ONLINE: {"identifier": _("The e-mail address, or the user name on the platform.")},
    Kind.LOCATION: {
        "latitude": _("Decimal degrees, e.g. 8.4125 (south is negative)."),
        "longitude": _("Decimal degrees, e.g. -77.4631 (west is negative)."),
    },
}

VEHICLE_TYPES: dict[str, Text] = {
    "car": _("Car"),
    "pickup": _("Pick-up"),
    "van": _("Van or minibus"),
    "bus": _("Bus"),
    "truck": _("Truck or lorry"),
    "motorcycle": _("Motorcycle"),
    "boat": _("Boat"),
    "other": _("Other vehicle"),
}
_ACCOUNT_LABELS: dict[str, Text] = {
    "iban": _("IBAN"),
    "bank_account": _("Bank account (national number)"),
    "card": _("Payment card"),
    "crypto_wallet": _("Crypto-currency wallet"),
}
_DOCUMENT_LABELS: dict[str, Text] = {
    "passport": _("Passport"),
    "national_id": _("National identity card"),
    "residence_permit": _("Residence permit"),
    "driving_licence": _("Driving licence"),
    "other": _("Other document"),
}
_PLATFORM_LABELS: dict[str, Text] = {
    "email": _("E-mail"),
    "whatsapp": "WhatsApp",
    "telegram": "Telegram",
    "facebook": "Facebook",
    "instagram": "Instagram",
    "tiktok": "TikTok",
    "x": _("X (Twitter)"),
    "other": _("Other platform"),
}

# Subtype choices per kind; the codes come from the modules that give them meaning.
SUBTYPES: dict[str, dict[str, Text]] = {
    Kind.VEHICLE: dict(VEHICLE_TYPES),
    Kind.ACCOUNT: {code: _ACCOUNT_LABELS.get(code, code) for code in matchkeys.ACCOUNT_TYPES},
    Kind.DOCUMENT: {code: _DOCUMENT_LABELS.get(code, code) for code in matchkeys.DOCUMENT_TYPES},
    Kind.ONLINE: {code: _PLATFORM_LABELS.get(code, code) for code in matchkeys.ONLINE_PLATFORMS},
    Kind.LOCATION: dict(Entity.LocationKind.choices),
}

# What a match key's prefix (``matchkeys.KEY_KINDS``) means, for the identifiers list.
KEY_KIND_LABELS: dict[str, Text] = {
    "phone": _("Phone"),
    "document": _("Document"),
    "account": _("Account"),
    "plate": _("Plate"),
    "email": _("E-mail"),
    "handle": _("Handle"),
    "name": _("Name"),
}

_COUNTRY_FIELDS = ("nationality", "identifier_country")
_SIX_PLACES = Decimal("0.000001")


def subtype_label(kind: str, subtype: str) -> str:
    """The display name of an entity's type (vehicle type, platform, kind of place...)."""
    return str(SUBTYPES.get(kind, {}).get(subtype, subtype))


def _blank_country_choices() -> list[tuple[str, str]]:
    return [("", "---------"), *country_choices()]


def _coordinate(value: Decimal | None, *, limit: int, message: Text) -> Decimal | None:
    if value is None:
        return None
    if not -limit <= value <= limit:
        raise ValidationError(message, code="out_of_range")
    # GPS tools give more decimals than the column keeps; 6 places are about 10 cm.
    return value.quantize(_SIX_PLACES)


class EntityFormBase(StyledFormMixin, _EntityModelForm):
    """Base of the per-kind forms built by ``entity_form_class``; never used directly.

    Takes the ``CaseAccess`` of the entity's case so that a holder can only be a person or an
    organisation of that same case, as its member may see them.
    """

    kind: str = ""

    def __init__(self, *args: Any, access: CaseAccess, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.case = access.case
        for name in REQUIRED_FIELDS[self.kind]:
            self.fields[name].required = True
        if "holder" in self.fields:
            holders = selectors.entity_list(access).filter(
                kind__in=(Kind.PERSON, Kind.ORGANISATION)
            )
            if self.instance.pk is not None:
                holders = holders.exclude(pk=self.instance.pk)
            holder_field = cast(HolderField, self.fields["holder"])
            # In the viewer's order (``selectors.entity_ordering``): never by a name the
            # viewer may not see.
            holder_field.queryset = holders
            # The initial value must be an entity: the choices are public ids, not keys.
            if self.instance.holder_id is not None:
                self.initial["holder"] = self.instance.holder
        if self.instance.pk is None and not self.is_bound:
            self._set_initial_for_new()

    def _set_initial_for_new(self) -> None:
        # ``initial`` holds the blank instance's values, so "not set" is an empty value.
        if self.kind == Kind.LOCATION and not self.initial.get("role"):
            self.initial["role"] = Entity.Role.OTHER
        # The case's own country is the likeliest region of a phone, a plate or a place.
        needs_country = self.kind in (Kind.PHONE, Kind.VEHICLE, Kind.LOCATION)
        if needs_country and not self.initial.get("identifier_country"):
            self.initial["identifier_country"] = self.case.owner_agency.country_id

    def clean_birth_date(self) -> datetime.date | None:
        birth_date: datetime.date | None = self.cleaned_data.get("birth_date")
        if birth_date and birth_date > timezone.localdate():
            raise ValidationError(_("A birth date cannot be in the future."), code="future")
        return birth_date

    def clean_latitude(self) -> Decimal | None:
        return _coordinate(
            self.cleaned_data.get("latitude"),
            limit=90,
            message=_("Latitude must be between -90 and 90 degrees."),
        )

    def clean_longitude(self) -> Decimal | None:
        return _coordinate(
            self.cleaned_data.get("longitude"),
            limit=180,
            message=_("Longitude must be between -180 and 180 degrees."),
        )

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        if self.kind == Kind.VEHICLE and not (cleaned.get("name") or cleaned.get("identifier")):
            self.add_error("name", _("Describe the vehicle or enter its plate."))
        if self.kind == Kind.LOCATION:
            latitude, longitude = cleaned.get("latitude"), cleaned.get("longitude")
            has_latitude = latitude is not None or "latitude" in self.errors
            has_longitude = longitude is not None or "longitude" in self.errors
            if has_latitude != has_longitude:
                missing = "longitude" if has_latitude else "latitude"
                self.add_error(missing, _("Enter both latitude and longitude, or neither."))
        return cleaned


class HolderField(_EntityChoiceField):
    """A person or organisation of the case, chosen by public id (UUID), never by key."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(queryset=Entity.objects.none(), to_field_name="uuid", **kwargs)

    def label_from_instance(self, obj: Entity) -> str:
        return f"{obj.label} ({obj.get_kind_display()})"

    def to_python(self, value: Any) -> Entity | None:
        try:
            return super().to_python(value)
        except ValidationError as error:
            # A malformed id is an invalid choice like any other, not a message about UUIDs.
            message = self.error_messages["invalid_choice"]
            raise ValidationError(message, code="invalid_choice") from error


def _extra_fields(kind: str) -> dict[str, forms.Field]:
    """Form fields that replace the model's defaults for this kind."""
    fields: dict[str, forms.Field] = {}
    used = KIND_FIELDS[kind]
    for name in _COUNTRY_FIELDS:
        if name in used:
            fields[name] = forms.ChoiceField(choices=_blank_country_choices, required=False)
    if "subtype" in used:
        fields["subtype"] = forms.ChoiceField(
            choices=[("", "---------"), *SUBTYPES[kind].items()], required=False
        )
    if "holder" in used:
        fields["holder"] = HolderField(required=False)
    for name, limit in (("latitude", 90), ("longitude", 180)):
        if name in used:
            # No decimal-places limit here: clean_<name> rounds what a GPS tool gives.
            fields[name] = forms.DecimalField(
                required=False,
                widget=forms.NumberInput(
                    attrs={"step": "any", "min": str(-limit), "max": str(limit)}
                ),
            )
    labels = {**LABELS.get(kind, {})}
    help_texts = HELP_TEXTS.get(kind, {})
    for name, field in fields.items():
        model_field = cast("Field[Any, Any]", Entity._meta.get_field(name))
        field.label = labels.get(name) or capfirst(model_field.verbose_name)
        field.help_text = help_texts.get(name, "")
    return fields


@cache
def entity_form_class(kind: str) -> type[EntityFormBase]:
    """The form class for one kind of entity (``Entity.Kind``); KeyError for an unknown kind."""
    fields = KIND_FIELDS[kind]
    meta = type(
        "Meta",
        (),
        {
            "model": Entity,
            "fields": fields,
            "labels": LABELS.get(kind, {}),
            "help_texts": HELP_TEXTS.get(kind, {}),
            "widgets": {
                "birth_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                "aliases": forms.Textarea(attrs={"rows": 3}),
                "description": forms.Textarea(attrs={"rows": 3}),
            },
        },
    )
    name = f"{kind.capitalize()}EntityForm"
    return type(name, (EntityFormBase,), {"Meta": meta, "kind": kind, **_extra_fields(kind)})


def add_service_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Attach a service's ``ValidationError`` to the form: next to the field it names, or on
    top of the form when it names no field of this form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, errors in error.error_dict.items():
        field = form.fields.get(name) if name != NON_FIELD_ERRORS else None
        form.add_error(name if field is not None else None, errors)
        if field is not None:
            # StyledFormMixin marks invalid fields during full_clean, which has already run.
            field.widget.attrs["class"] = f"{field.widget.attrs.get('class', '')} is-invalid"
            field.widget.attrs["aria-invalid"] = "true"


def entity_facts(entity: Entity) -> list[tuple[str, str]]:
    """(label, display value) of the fields an entity's kind uses, for its detail page.

    Role, holder and description are left out: the page shows them on their own.
    """
    form_fields = entity_form_class(entity.kind).base_fields
    facts: list[tuple[str, str]] = []
    for name in KIND_FIELDS[entity.kind]:
        if name in ("role", "holder", "description"):
            continue
        value = getattr(entity, name)
        if name in _COUNTRY_FIELDS:
            display = country_name(value) if value else ""
        elif name == "subtype":
            display = subtype_label(entity.kind, value) if value else ""
        elif isinstance(value, datetime.date):
            display = formats.date_format(value, "DATE_FORMAT")
        else:
            display = "" if value is None else str(value)
        facts.append((str(form_fields[name].label), display))
    return facts


def identifier_rows(keys: list[str]) -> list[tuple[str, str]]:
    """(what, normalised value) for stored match keys, e.g. ("Phone", "+50761234567")."""
    rows = []
    for key in keys:
        prefix, _sep, value = key.partition(":")
        rows.append((str(KEY_KIND_LABELS.get(prefix, prefix)), value))
    return rows
