"""The share form of a case's sharing page.

The form only parses what was posted; the rules (own agency, level above your own, expiry in
the past, handling code) are the service's, so the same clear message is given on every
channel. Errors the service raises for fields the form does not show go to the form as a
whole.
"""

import datetime
from collections import defaultdict
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from casebook.forms import StyledFormMixin
from casebook.models import Agency
from cases.models import CaseShare

PURPOSE_REQUIRED = _("Say why you share this case; the purpose is recorded.")


def agency_choices(agencies: list[Agency]) -> list[tuple[str, Any]]:
    """Agencies grouped by country for a ``<select>`` with ``<optgroup>``s."""
    groups: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for agency in agencies:
        label = f"{agency.name} ({agency.acronym})" if agency.acronym else agency.name
        groups[str(agency.country)].append((str(agency.uuid), label))
    return [("", "---------"), *((country, choices) for country, choices in groups.items())]


class ShareForm(StyledFormMixin, forms.Form):
    agency = forms.UUIDField(
        label=_("Agency"),
        widget=forms.Select,
        error_messages={"invalid": _("Choose an agency from the list.")},
    )
    level = forms.ChoiceField(
        label=_("Level"),
        choices=CaseShare.Level.choices,
        initial=CaseShare.Level.VIEW,
        help_text=_(
            "View: read the case. Contribute: also add entities, relationships, movements, "
            "notes and evidence. Manage: everything, including the case's core fields and "
            "re-sharing where the handling code allows it."
        ),
    )
    include_protected = forms.BooleanField(
        label=_("Include protected identities"),
        required=False,
        help_text=_(
            "Let the agency's investigators and prosecutors see the victims, witnesses and "
            "informants of this case. Otherwise they see pseudonyms."
        ),
    )
    purpose = forms.CharField(
        label=_("Purpose"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": PURPOSE_REQUIRED},
        help_text=_("Why the agency needs the case; recorded with the share."),
    )
    expires_on = forms.DateField(
        label=_("Expires on"),
        required=False,
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
        help_text=_(
            "Optional. Access ends at the end of this day, midnight UTC. Leave empty for a "
            "share that lasts until it is revoked."
        ),
    )

    def __init__(
        self,
        *args: Any,
        agencies: list[Agency],
        is_owner: bool = True,
        expiry_limit: datetime.datetime | None = None,
        **kwargs: Any,
    ) -> None:
        """``agencies``: those offered (the user's own and the owner are left out by the
        caller); any existing agency may still be posted, and the service says why not.
        ``is_owner``: only the owner agency may share protected identities, so others do not
        get that field. ``expiry_limit``: when a recipient re-shares, the end of its own
        share, which a re-share cannot outlast (``selectors.reshare_expiry_limit``)."""
        super().__init__(*args, **kwargs)
        self.fields["agency"].widget.choices = agency_choices(agencies)
        if not is_owner:
            del self.fields["include_protected"]
        self.expiry_limit = expiry_limit
        expires_on = self.fields["expires_on"]
        expires_on.widget.attrs["min"] = timezone.now().date().isoformat()
        if expiry_limit is not None:
            expires_on.widget.attrs["max"] = last_day_before(expiry_limit).isoformat()
            expires_on.help_text = _(
                "Optional. Your agency's own access ends at %(limit)s UTC, and so does this "
                "share at the latest, also when you leave this empty."
            ) % {
                "limit": formats.date_format(
                    expiry_limit.astimezone(datetime.UTC), "SHORT_DATETIME_FORMAT"
                )
            }

    def clean_agency(self) -> Agency:
        agency = (
            Agency.objects.select_related("country", "group")
            .filter(uuid=self.cleaned_data["agency"])
            .first()
        )
        if agency is None:
            raise ValidationError(_("There is no such agency."))
        return agency

    def share_values(self) -> dict[str, Any]:
        """What ``services.case_share`` takes, from the cleaned form."""
        data = self.cleaned_data
        expires_on: datetime.date | None = data.get("expires_on")
        expires_at = end_of_day_utc(expires_on) if expires_on else None
        limit = self.expiry_limit
        # The last day the re-sharer's own access reaches ends with that access; later days
        # are the service's to refuse.
        if expires_on and limit is not None and expires_on == last_day_before(limit):
            expires_at = min(end_of_day_utc(expires_on), limit)
        return {
            "agency": data["agency"],
            "level": data["level"],
            "purpose": data["purpose"],
            "include_protected": bool(data.get("include_protected")),
            "expires_at": expires_at,
        }

    def add_service_error(self, error: ValidationError) -> None:
        """Attach a service's error next to its field (``expires_at`` is ``expires_on``
        here), or to the form when the form does not show that field."""
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for name, errors in error.error_dict.items():
            field = "expires_on" if name == "expires_at" else name
            if field in self.fields:
                self.add_error(field, errors)
                attrs = self.fields[field].widget.attrs
                if "is-invalid" not in attrs.get("class", ""):
                    attrs["class"] = f"{attrs.get('class', '')} is-invalid".strip()
                attrs["aria-invalid"] = "true"
            else:
                self.add_error(None, errors)


def last_day_before(moment: datetime.datetime) -> datetime.date:
    """The last day (UTC) that has any time before ``moment``."""
    return (moment.astimezone(datetime.UTC) - datetime.timedelta(microseconds=1)).date()


def end_of_day_utc(day: datetime.date) -> datetime.datetime:
    """The end of ``day`` in UTC: midnight at the start of the next day."""
    return datetime.datetime.combine(
        day + datetime.timedelta(days=1), datetime.time(), datetime.UTC
    )
