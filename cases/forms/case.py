"""Forms of the case pages: the case list's filters and the case form (create and edit)."""

from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casebook.forms import StyledFormMixin
from casebook.models import Agency, Country
from cases.models import Case
from cases.selectors import CASE_ORDERINGS, CaseFilters

ORDER_LABELS = {
    "-updated_at": _("Recently updated first"),
    "updated_at": _("Least recently updated first"),
    "reference": _("Reference, ascending"),
    "-reference": _("Reference, descending"),
    "title": _("Title, A to Z"),
    "-opened_on": _("Most recently opened first"),
    "opened_on": _("Opened longest ago first"),
}

HANDLING_CODE_HELP = _(
    "Traffic Light Protocol 2.0: how far what you share from this case may travel. "
    "RED: the named recipients only. AMBER+STRICT: their own organisation only. "
    "AMBER: their organisation and those it works with, on a need-to-know basis. "
    "GREEN: the wider community, never public. CLEAR: no limit."
)


class CaseFilterForm(StyledFormMixin, forms.Form):
    """The case list's filters, bound to the query string. An invalid value is ignored and
    shown as an error next to its field; the list is never refused."""

    q = forms.CharField(label=_("Reference or title"), required=False, max_length=100)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *Case.Status.choices]
    )
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("Any kind")), *Case.Kind.choices]
    )
    country = forms.ModelChoiceField(
        label=_("Country"),
        required=False,
        queryset=Country.objects.all(),
        to_field_name="code",
        empty_label=_("Any country"),
    )
    order = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[(key, ORDER_LABELS.get(key, key)) for key in CASE_ORDERINGS],
    )

    def filters(self) -> CaseFilters:
        """The selector filters from the fields that are valid."""
        self.is_valid()
        data = self.cleaned_data
        country = data.get("country")
        return CaseFilters(
            status=data.get("status") or "",
            kind=data.get("kind") or "",
            country=country.pk if country is not None else "",
            text=(data.get("q") or "").strip(),
            order=data.get("order") or CaseFilters.order,
        )

    def is_filtered(self) -> bool:
        """Whether any valid filter narrows the list (for the empty-state message)."""
        self.is_valid()
        return any(self.cleaned_data.get(name) for name in ("q", "status", "kind", "country"))


CONFLICT_DECISIONS = [
    ("", ""),
    ("revoke", _("Revoke these shares")),
    ("keep", _("Keep them")),
]


# Django's choice fields are generic only in django-stubs: subscripted for mypy, plain at run
# time (where ``ModelChoiceField[User]`` would raise).
if TYPE_CHECKING:
    _UserChoiceField = forms.ModelChoiceField[User]
else:
    _UserChoiceField = forms.ModelChoiceField


class LeadOfficerField(_UserChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.get_full_name() or obj.get_username()


class CaseForm(StyledFormMixin, forms.Form):
    """A case's editable fields. The owner agency and the reference are never editable: the
    service assigns them. Values are checked again by the service, which has the last word."""

    title = forms.CharField(label=_("Title"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=[("", "---------"), *Case.Kind.choices])
    status = forms.ChoiceField(
        label=_("Status"), choices=Case.Status.choices, initial=Case.Status.OPEN
    )
    handling_code = forms.ChoiceField(
        label=_("Handling code"),
        choices=Case.HandlingCode.choices,
        initial=Case.HandlingCode.AMBER,
        help_text=HANDLING_CODE_HELP,
    )
    countries = forms.ModelMultipleChoiceField(
        label=_("Countries involved"),
        queryset=Country.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Where the offence, its victims or its route took place."),
    )
    summary = forms.CharField(
        label=_("Summary"), required=False, widget=forms.Textarea(attrs={"rows": 6})
    )
    lead_officer = LeadOfficerField(
        label=_("Lead officer"),
        queryset=get_user_model().objects.none(),
        required=False,
        empty_label=_("(none)"),
        help_text=_("An active member of the owner agency."),
    )
    opened_on = forms.DateField(
        label=_("Opened on"),
        initial=timezone.localdate,
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
    )

    def __init__(
        self,
        *args: Any,
        agency: Agency,
        lead_officer: User | None = None,
        editing: bool = False,
        may_change_code: bool = True,
        **kwargs: Any,
    ) -> None:
        """``editing``: the edit form, which also carries the owner's decision on shares a
        raised handling code would not allow; ``may_change_code``: only the owner agency
        changes the handling code (for others the field is shown but disabled)."""
        super().__init__(*args, **kwargs)
        if editing:
            # Set by the "Revoke these shares" / "Keep them" buttons, shown when needed.
            self.fields["conflicting_shares"] = forms.ChoiceField(
                required=False, choices=CONFLICT_DECISIONS, widget=forms.HiddenInput
            )
        if not may_change_code:
            self.fields["handling_code"].disabled = True
            self.fields["handling_code"].help_text = _(
                "Only the owner agency may change the handling code."
            )
        officers = Q(member__agency=agency, is_active=True)
        if lead_officer is not None:
            # Keep a deactivated lead officer selectable, so that saving does not silently
            # drop them: the service then says why they no longer qualify.
            officers |= Q(pk=lead_officer.pk)
        cast("forms.ModelChoiceField[User]", self.fields["lead_officer"]).queryset = (
            get_user_model()
            .objects.filter(officers)
            .order_by("last_name", "first_name", "username")
        )
        self.fields["opened_on"].widget.attrs["max"] = timezone.localdate().isoformat()

    def update_values(self) -> dict[str, Any]:
        """What ``services.case_update_with_code`` takes, from the cleaned edit form."""
        values = dict(self.cleaned_data)
        decision = values.pop("conflicting_shares", "")
        values["revoke_conflicting"] = {"revoke": True, "keep": False}.get(decision)
        return values

    @staticmethod
    def initial_for(case: Case, countries: list[Country]) -> dict[str, Any]:
        """The form's initial values for editing ``case``."""
        initial = forms.model_to_dict(
            case,
            fields=["title", "kind", "status", "handling_code", "summary", "opened_on"],
        )
        initial.update(lead_officer=case.lead_officer_id, countries=countries)
        return initial

    def add_service_error(self, error: ValidationError) -> None:
        """Attach a service's ``ValidationError`` next to the field it names, or to the form
        when the form has no such field (e.g. ``closed_on``, set by the service)."""
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for name, errors in error.error_dict.items():
            if name in self.fields:
                self.add_error(name, errors)
                attrs = self.fields[name].widget.attrs
                if "is-invalid" not in attrs.get("class", ""):
                    attrs["class"] = f"{attrs.get('class', '')} is-invalid".strip()
                attrs["aria-invalid"] = "true"
            else:
                self.add_error(None, errors)
