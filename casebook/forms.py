"""Form helpers shared by every app: Bootstrap classes on every widget."""

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from casebook.models import Agency, Member

# Some of Django's form classes are generic only in django-stubs: subscripted for mypy, plain
# at run time (where ``ModelForm[Agency]`` would raise). The mixin is a form for mypy only.
if TYPE_CHECKING:
    _FormMixinBase = forms.BaseForm
    _AgencyModelForm = forms.ModelForm[Agency]
    _SetPasswordForm = auth_forms.SetPasswordForm[User]
else:
    _FormMixinBase = object
    _AgencyModelForm = forms.ModelForm
    _SetPasswordForm = auth_forms.SetPasswordForm


class StyledFormMixin(_FormMixinBase):
    """Adds Bootstrap's classes to every widget, and ``is-invalid`` where a field has errors,
    with ``aria-invalid`` so that screen readers announce it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput | forms.CheckboxSelectMultiple):
                css = "form-check-input"
            elif isinstance(widget, forms.Select | forms.SelectMultiple):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def full_clean(self) -> None:
        super().full_clean()
        for name in self.errors:
            field = self.fields.get(name)
            if field is not None:
                field.widget.attrs["class"] += " is-invalid"
                field.widget.attrs["aria-invalid"] = "true"


# --- members --------------------------------------------------------------------------------

ROLE_HELP = _(
    "Investigators and prosecutors work on cases; analysts read them; supervisors manage "
    "members and their agency's cases."
)


def _roles_field() -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label=_("Roles"),
        choices=Member.Role.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=ROLE_HELP,
        error_messages={"required": _("Choose at least one role.")},
    )


class MemberEditForm(StyledFormMixin, forms.Form):
    """Names, e-mail and roles of a member of the supervisor's agency. A supervisor editing
    their own entry is not offered the roles: nobody changes their own roles."""

    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    email = forms.EmailField(label=_("E-mail"))
    roles = _roles_field()

    @classmethod
    def for_member(
        cls, member: Member, actor: User, data: Mapping[str, Any] | None = None
    ) -> "MemberEditForm":
        initial = {
            "first_name": member.user.first_name,
            "last_name": member.user.last_name,
            "email": member.user.email,
            "roles": member.roles,
        }
        form = cls(data, initial=initial)
        if member.user_id == actor.pk:
            del form.fields["roles"]
        return form


class MemberAddForm(StyledFormMixin, forms.Form):
    """A new member: their user account and roles. No password: the new member chooses
    their own with the one-time link e-mailed to them."""

    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        validators=[UnicodeUsernameValidator()],
        help_text=_("Letters, digits and @/./+/-/_ only; used to sign in."),
    )
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    email = forms.EmailField(
        label=_("E-mail"),
        help_text=_("The link to choose a password is sent to this address."),
    )
    roles = _roles_field()

    def clean_username(self) -> str:
        username: str = self.cleaned_data["username"]
        if get_user_model().objects.filter(username__iexact=username).exists():
            raise ValidationError(_("A user with that username already exists."))
        return username

    def member_values(self) -> dict[str, Any]:
        """What ``casebook.services.member_add`` takes, from the cleaned form."""
        data = self.cleaned_data
        names = ("username", "first_name", "last_name", "email", "roles")
        return {name: data[name] for name in names}


# --- the member's own password -------------------------------------------------------------


class SetPasswordForm(StyledFormMixin, _SetPasswordForm):
    """Choose a password (a one-time link, or a reset by e-mail), twice, with the rules."""


class PasswordChangeForm(StyledFormMixin, auth_forms.PasswordChangeForm):
    """The current password, then the new one twice, with the rules."""


class PasswordResetForm(StyledFormMixin, auth_forms.PasswordResetForm):
    """An e-mail address to send a reset link to; says the same whether it is known or not."""


# --- the agency's own settings ----------------------------------------------------------------


class AgencySettingsForm(StyledFormMixin, _AgencyModelForm):
    """What a supervisor decides for their own agency. The name and the country are the
    administrators' (``casebook.admin``)."""

    class Meta:
        model = Agency
        fields = ["contact_point", "protected_match_policy"]
