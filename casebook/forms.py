"""Form helpers shared by every app: Bootstrap classes on every widget."""

from typing import Any

from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from casebook.models import Member


class StyledFormMixin:
    """Adds Bootstrap's classes to every widget, and ``is-invalid`` where a field has errors,
    with ``aria-invalid`` so that screen readers announce it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]
        for field in self.fields.values():  # type: ignore[attr-defined]
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput | forms.CheckboxSelectMultiple):
                css = "form-check-input"
            elif isinstance(widget, forms.Select | forms.SelectMultiple):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def full_clean(self) -> None:
        super().full_clean()  # type: ignore[misc]
        for name in self.errors:  # type: ignore[attr-defined]
            field = self.fields.get(name)  # type: ignore[attr-defined]
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
    """Names, e-mail and roles of a member of the supervisor's agency."""

    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    email = forms.EmailField(label=_("E-mail"))
    roles = _roles_field()

    @classmethod
    def for_member(cls, member: Member, data: Any = None) -> "MemberEditForm":
        initial = {
            "first_name": member.user.first_name,
            "last_name": member.user.last_name,
            "email": member.user.email,
            "roles": member.roles,
        }
        return cls(data, initial=initial)


class MemberAddForm(StyledFormMixin, forms.Form):
    """A new member: their user account, roles and an initial password."""

    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        validators=[UnicodeUsernameValidator()],
        help_text=_("Letters, digits and @/./+/-/_ only; used to sign in."),
    )
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    email = forms.EmailField(label=_("E-mail"))
    roles = _roles_field()
    password = forms.CharField(
        label=_("Initial password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password_confirmation = forms.CharField(
        label=_("Initial password (again)"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_username(self) -> str:
        username: str = self.cleaned_data["username"]
        if get_user_model().objects.filter(username__iexact=username).exists():
            raise ValidationError(_("A user with that username already exists."))
        return username

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        password = data.get("password")
        if password and password != data.get("password_confirmation"):
            self.add_error("password_confirmation", _("The two passwords do not match."))
        elif password:
            user = get_user_model()(
                username=data.get("username", ""),
                first_name=data.get("first_name", ""),
                last_name=data.get("last_name", ""),
                email=data.get("email", ""),
            )
            try:
                password_validation.validate_password(password, user)
            except ValidationError as error:
                self.add_error("password", error)
        return data

    def member_values(self) -> dict[str, Any]:
        """What ``casebook.services.member_add`` takes, from the cleaned form."""
        data = self.cleaned_data
        names = ("username", "first_name", "last_name", "email", "roles", "password")
        return {name: data[name] for name in names}
