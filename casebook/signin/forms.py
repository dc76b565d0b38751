"""The second step's forms: a code from the authenticator app, or a recovery code."""

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from casebook.forms import StyledFormMixin

_CODE_ATTRS = {
    "autocomplete": "one-time-code",
    "autocapitalize": "none",
    "spellcheck": "false",
    "autofocus": True,
}


class SecondFactorForm(StyledFormMixin, forms.Form):
    """The sign-in's second step: six digits from the app, or one recovery code."""

    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        help_text=_("The 6-digit code your authenticator app shows now, or a recovery code."),
        widget=forms.TextInput(attrs=_CODE_ATTRS),
    )


class AuthenticatorCodeForm(StyledFormMixin, forms.Form):
    """A code from the authenticator app (set-up, new recovery codes)."""

    code = forms.CharField(
        label=_("Code from your app"),
        max_length=12,
        validators=[
            RegexValidator(r"^\s*\d{3}\s?\d{3}\s*$", _("Enter the 6 digits your app shows."))
        ],
        widget=forms.TextInput(attrs={**_CODE_ATTRS, "inputmode": "numeric"}),
    )
