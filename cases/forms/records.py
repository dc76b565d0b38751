"""Forms for what is recorded under a case: relationships, movements, notes and evidence.

Entity choices are always the querysets of ``cases.selectors.entity_list(access)`` handed in by
the view, and are posted by UUID: an entity of another case is simply not a valid choice.
The services check the same data rules again; these forms give the messages next to fields.
"""

import datetime
import io
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import InMemoryUploadedFile, UploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casebook.forms import StyledFormMixin
from cases.models import Entity, Movement, Relationship

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# Django's choice fields are generic only in django-stubs: subscripted for mypy, plain at run
# time (where ``ModelChoiceField[Entity]`` would raise).
if TYPE_CHECKING:
    _EntityChoiceField = forms.ModelChoiceField[Entity]
    _EntityMultipleChoiceField = forms.ModelMultipleChoiceField[Entity]
else:
    _EntityChoiceField = forms.ModelChoiceField
    _EntityMultipleChoiceField = forms.ModelMultipleChoiceField


def entity_label(entity: Entity) -> str:
    """How an entity is named on the record pages (choices, confirmations).

    Entities come from ``selectors.entity_list(access)``, masked for members who may not see
    protected identities: a protected entity's label is then its pseudonym.
    """
    return f"{entity.label} ({entity.get_kind_display()}, {entity.get_role_display()})"


class EntityChoiceField(_EntityChoiceField):
    """An entity of the case, posted by UUID; anything else gets one plain message."""

    default_error_messages = {"invalid_choice": _("Choose an entity of this case.")}

    def label_from_instance(self, obj: Entity) -> str:
        return entity_label(obj)

    def to_python(self, value: Any) -> Entity | None:
        try:
            return super().to_python(value)
        except forms.ValidationError as error:
            # A malformed UUID fails in the model field with a technical message.
            raise forms.ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            ) from error


class EntityMultipleChoiceField(_EntityMultipleChoiceField):
    default_error_messages = {
        "invalid_choice": _("Choose entities of this case."),
        "invalid_pk_value": _("Choose entities of this case."),
    }

    def label_from_instance(self, obj: Entity) -> str:
        return entity_label(obj)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def _not_in_future(value: datetime.date | None, message: "StrOrPromise") -> None:
    if value and value > timezone.localdate():
        raise forms.ValidationError(message)


def _cap_at_today(field: forms.Field) -> None:
    field.widget.attrs["max"] = timezone.localdate().isoformat()


def _limit_choices(form: forms.Form, name: str, queryset: QuerySet[Entity]) -> None:
    cast("forms.ModelChoiceField[Entity]", form.fields[name]).queryset = queryset


class RelationshipForm(StyledFormMixin, forms.Form):
    source = EntityChoiceField(
        queryset=Entity.objects.none(), to_field_name="uuid", label=_("From")
    )
    kind = forms.ChoiceField(label=_("Relationship"), choices=Relationship.Kind.choices)
    target = EntityChoiceField(queryset=Entity.objects.none(), to_field_name="uuid", label=_("To"))
    started_on = forms.DateField(label=_("From date"), required=False, widget=DateInput())
    ended_on = forms.DateField(label=_("To date"), required=False, widget=DateInput())
    evidence_note = forms.CharField(
        label=_("Evidence"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What supports this link: an intercept, a statement, a bank record…"),
    )
    source_reliability = forms.ChoiceField(
        label=_("Source reliability"),
        choices=Relationship.SourceReliability.choices,
        initial=Relationship.SourceReliability.X,
        help_text=_(
            "The first half of the 4x4 grading used by Europol: how reliable the source is, "
            "whatever it reports. A: no doubt about authenticity, trustworthiness and "
            "competence, or a history of complete reliability. B: in most instances proved "
            "reliable. C: in most instances proved unreliable. X: reliability cannot be assessed."
        ),
    )
    information_assessment = forms.ChoiceField(
        label=_("Information assessment"),
        choices=Relationship.InformationAssessment.choices,
        initial=Relationship.InformationAssessment.FOUR,
        help_text=_(
            "The second half of the 4x4 grading, judged separately from the source: "
            "1: no doubt about its accuracy. 2: known personally to the source but not to the "
            "officer passing it on. 3: not known personally to the source but corroborated by "
            "information already recorded. 4: not known personally to the source and cannot be "
            "corroborated. A grade reads source then information, e.g. B2."
        ),
    )

    def __init__(self, *args: Any, entities: QuerySet[Entity], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _limit_choices(self, "source", entities)
        _limit_choices(self, "target", entities)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        source, target = data.get("source"), data.get("target")
        if source is not None and target is not None and source.pk == target.pk:
            self.add_error("target", _("Choose two different entities."))
        started_on, ended_on = data.get("started_on"), data.get("ended_on")
        if started_on and ended_on and ended_on < started_on:
            self.add_error("ended_on", _("The end date is before the start date."))
        return data


class MovementForm(StyledFormMixin, forms.Form):
    origin = EntityChoiceField(
        queryset=Entity.objects.none(), to_field_name="uuid", label=_("From")
    )
    destination = EntityChoiceField(
        queryset=Entity.objects.none(), to_field_name="uuid", label=_("To")
    )
    moved_on = forms.DateField(label=_("Date"), widget=DateInput())
    means = forms.ChoiceField(label=_("Means"), choices=Movement.Means.choices)
    people_count = forms.IntegerField(
        label=_("Number of people"),
        min_value=1,
        max_value=1_000_000,
        error_messages={
            "invalid": _("Enter the number of people as a whole number, for example 12."),
            "min_value": _("At least one person must have moved: enter 1 or more."),
        },
        widget=forms.NumberInput(attrs={"min": 1, "step": 1, "inputmode": "numeric"}),
    )
    facilitators = EntityMultipleChoiceField(
        queryset=Entity.objects.none(),
        to_field_name="uuid",
        label=_("Facilitators"),
        required=False,
        help_text=_(
            "People, organisations, vehicles… of this case involved in the movement. "
            "Hold Ctrl (Cmd on a Mac) to choose more than one."
        ),
    )
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, entities: QuerySet[Entity], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.locations = entities.filter(kind=Entity.Kind.LOCATION)
        _limit_choices(self, "origin", self.locations)
        _limit_choices(self, "destination", self.locations)
        _limit_choices(self, "facilitators", entities.exclude(kind=Entity.Kind.LOCATION))
        self.fields["facilitators"].widget.attrs["size"] = 6
        _cap_at_today(self.fields["moved_on"])

    def clean_moved_on(self) -> datetime.date:
        moved_on: datetime.date = self.cleaned_data["moved_on"]
        _not_in_future(moved_on, _("A movement cannot be in the future."))
        return moved_on

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        origin, destination = data.get("origin"), data.get("destination")
        if origin is not None and destination is not None and origin.pk == destination.pk:
            self.add_error("destination", _("The destination is the place of origin."))
        return data


# Notes are free text that no one can mask: names must go where they are protected.
NOTE_WARNING = _(
    "Do not write the names of victims, witnesses or informants in notes: add them as "
    "entities, where they are protected."
)


class NoteForm(StyledFormMixin, forms.Form):
    noted_on = forms.DateField(label=_("Date"), widget=DateInput())
    body = forms.CharField(
        label=_("Note"),
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": _("Write the note: it cannot be empty.")},
    )
    # Shown above the form (``cases/note_form.html``).
    warning = NOTE_WARNING

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"noted_on": timezone.localdate()})
        super().__init__(*args, **kwargs)
        _cap_at_today(self.fields["noted_on"])

    def clean_noted_on(self) -> datetime.date:
        noted_on: datetime.date = self.cleaned_data["noted_on"]
        _not_in_future(noted_on, _("A note cannot be dated in the future."))
        return noted_on


def evidence_limit_message() -> str:
    limit = settings.EVIDENCE_MAX_BYTES
    return str(
        _("The file is larger than the limit of %(size)s (%(bytes)s bytes).")
        % {"size": filesizeformat(limit), "bytes": f"{limit:,}"}
    )


class EvidenceForm(StyledFormMixin, forms.Form):
    file = forms.FileField(
        label=_("File"),
        error_messages={
            "required": _("Choose a file to upload."),
            "empty": _("The file is empty (0 bytes): there is nothing to keep as evidence."),
        },
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What the file is, where and how it was obtained."),
    )
    protected = forms.BooleanField(
        label=_("Contains protected identities (victims, witnesses or informants)"),
        required=False,
        initial=True,
        help_text=_(
            "Leave this ticked for statements, photos, documents and anything else that could "
            "identify a protected person: its name, description and content are then shown "
            "only to those who may see the case's protected identities. Everyone else sees "
            '"Protected evidence file" and cannot download it.'
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _(
            "Up to %(size)s. The file is kept exactly as uploaded; its SHA-256 fingerprint is "
            "recorded and checked, and every download is logged in its chain of custody."
        ) % {"size": filesizeformat(settings.EVIDENCE_MAX_BYTES)}

    def clean_file(self) -> "UploadedFile[bytes]":
        upload: UploadedFile[bytes] = self.cleaned_data["file"]
        # The size the upload reports; nothing of the file is read here.
        if upload.size is not None and upload.size > settings.EVIDENCE_MAX_BYTES:
            raise forms.ValidationError(evidence_limit_message())
        return upload


class EvidenceUploadLimitHandler(FileUploadHandler):
    """Stops keeping an uploaded file once it passes ``EVIDENCE_MAX_BYTES``.

    Put first in ``request.upload_handlers`` before anything reads the body. Past the limit
    the rest of the stream is only counted, never kept in memory or on disk, and the file is
    replaced by an empty stand-in whose ``size`` is what was sent, so the form refuses it
    with the limit message.
    """

    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        self.limit = settings.EVIDENCE_MAX_BYTES
        self.received = 0

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        return raw_data if self.received <= self.limit else None

    def file_complete(self, file_size: int) -> "UploadedFile[bytes] | None":
        if self.received <= self.limit:
            return None  # the next handler keeps the file as usual
        # The next handlers hold the part received before the limit: drop it now.
        for handler in getattr(self.request, "upload_handlers", ()):
            partial = getattr(handler, "file", None)
            if handler is not self and partial is not None:
                partial.close()
        return InMemoryUploadedFile(
            file=io.BytesIO(),
            field_name=self.field_name,
            name=self.file_name,
            content_type=self.content_type,
            size=self.received,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )
