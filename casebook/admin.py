"""The installation administrators' admin: countries, agencies, first supervisors and users.

Administrators set agencies up and seat the first supervisor of an agency that has none;
supervisors manage their own members in Casebook itself. Nobody sets another person's
password here: accounts are created without one and their owners choose it with a one-time
link e-mailed to them. Every action on an account or an agency goes through
``casebook.services``, which writes it to the access log under the administrator's name.
Agencies and members are never deleted (cases, grants and history point at them): users are
deactivated instead. Case content is not in the admin at all (see ``cases/admin.py``).
"""

from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from casebook import accounts, services
from casebook.auth import signed_in_user
from casebook.models import Agency, Country, Member

# The admin's classes are generic only in django-stubs: subscripted for mypy, plain at run
# time (where ``ModelAdmin[Country]`` would raise).
if TYPE_CHECKING:
    _CountryModelAdmin = admin.ModelAdmin[Country]
    _MemberModelForm = forms.ModelForm[Member]
    _UserModelForm = forms.ModelForm[User]
    _UserAdmin = UserAdmin[User]
else:
    _CountryModelAdmin = admin.ModelAdmin
    _MemberModelForm = _UserModelForm = forms.ModelForm
    _UserAdmin = UserAdmin


@admin.register(Country)
class CountryAdmin(_CountryModelAdmin):
    """Read-only: the 23 member states are loaded by a data migration."""

    list_display = ("code", "name", "conference")
    list_filter = ("conference",)
    search_fields = ("code", "name")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Country | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Country | None = None) -> bool:
        return False


class _NoDeleteMixin:
    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Agency)
class AgencyAdmin(_NoDeleteMixin, SimpleHistoryAdmin):  # type: ignore[misc]  # simple-history is untyped
    list_display = ("name", "acronym", "country", "kind", "contact_point")
    list_filter = ("kind", "country")
    list_select_related = ("country",)
    search_fields = ("name", "acronym", "contact_point")
    readonly_fields = ("uuid", "group", "created_at")
    fields = ("name", "acronym", "country", "kind", "contact_point", *readonly_fields)

    def save_model(
        self, request: HttpRequest, obj: Agency, form: "forms.ModelForm[Agency]", change: bool
    ) -> None:
        actor = signed_in_user(request)
        values = {name: form.cleaned_data[name] for name in AGENCY_FIELDS}
        if change:
            # Logged, and a new country or contact point is notified to its supervisors.
            services.agency_update(actor=actor, agency=obj, **values)
            return
        # A new agency gets its Group from the service; the admin then carries on with ``obj``
        # (log entry, redirect), so it takes on the saved row's identity.
        created = services.agency_create(actor=actor, **values)
        for field in Agency._meta.concrete_fields:
            setattr(obj, field.attname, getattr(created, field.attname))
        obj._state.adding = False
        obj._state.db = created._state.db


AGENCY_FIELDS = ("name", "acronym", "country", "kind", "contact_point")


@admin.action(description=_("E-mail a one-time link to choose a password"))
def send_password_link(
    modeladmin: "admin.ModelAdmin[User] | admin.ModelAdmin[Member]",
    request: HttpRequest,
    queryset: "QuerySet[User] | QuerySet[Member]",
) -> None:
    """The one thing an administrator may do about someone's password: send them a link to
    choose it themselves (logged under the administrator's name)."""
    actor = signed_in_user(request)
    if queryset.model is User:
        users = queryset
    else:  # the member admin's selection (mypy narrows only the ``is`` branch)
        users = User.objects.filter(member__in=cast("QuerySet[Member]", queryset))
    for user in users:
        try:
            services.member_link_send(actor=actor, user=user, base_url=accounts.base_url(request))
        except ValidationError as error:
            modeladmin.message_user(
                request, f"{user.get_username()}: {' '.join(error.messages)}", messages.ERROR
            )
        else:
            modeladmin.message_user(
                request, _("A link was sent to %(user)s.") % {"user": user.get_username()}
            )


class MemberAdminForm(_MemberModelForm):
    """Seats the first supervisor of an agency; shows what
    ``services.agency_first_supervisor_seat`` would refuse next to the fields."""

    actor: User | None = None  # set per request by ``MemberAdmin.get_form``

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        problems = services.first_supervisor_problems(
            actor=self.actor, user=data.get("user"), agency=data.get("agency")
        )
        for field, problem in problems.items():
            self.add_error(field, problem)
        return data


@admin.register(Member)
class MemberAdmin(_NoDeleteMixin, SimpleHistoryAdmin):  # type: ignore[misc]  # simple-history is untyped
    """Members are read-only here except for seating an agency's first supervisor: roles,
    e-mail and status are the supervisors' (member pages) or the user admin's."""

    form = MemberAdminForm
    actions = [send_password_link]
    list_display = (
        "user",
        "full_name",
        "agency",
        "roles_display",
        "is_active",
    )
    list_filter = (
        "is_investigator",
        "is_prosecutor",
        "is_analyst",
        "is_supervisor",
        "user__is_active",
        "agency__country",
        "agency",
    )
    list_select_related = ("user", "agency")
    search_fields = ("user__username", "user__first_name", "user__last_name", "user__email")
    autocomplete_fields = ("user", "agency")
    add_fields = ("user", "agency")
    fields = (
        "user",
        "agency",
        "is_investigator",
        "is_prosecutor",
        "is_analyst",
        "is_supervisor",
        "uuid",
        "created_at",
    )

    def has_change_permission(self, request: HttpRequest, obj: Member | None = None) -> bool:
        # Only the agency's supervisors change roles (recorded and notified there).
        return False

    def get_fields(self, request: HttpRequest, obj: Member | None = None) -> tuple[str, ...]:
        return self.fields if obj else self.add_fields

    def get_readonly_fields(
        self, request: HttpRequest, obj: Member | None = None
    ) -> tuple[str, ...]:
        # All of them, for the history's "revert" page too (which asks no permission first).
        return self.fields if obj else ()

    def get_form(
        self, request: HttpRequest, obj: Member | None = None, change: bool = False, **kwargs: Any
    ) -> type[MemberAdminForm]:
        # ModelAdmin.get_form subclasses ``self.form`` for this request (modelform_factory).
        form: type[MemberAdminForm] = super().get_form(request, obj, change=change, **kwargs)
        form.actor = signed_in_user(request)
        if obj is None:
            form.base_fields["user"].help_text = _(
                "Seated as the agency's first supervisor. Their password is cleared and a "
                "one-time link to choose their own is e-mailed to them."
            )
        return form

    @admin.display(description=_("name"), ordering="user__last_name")
    def full_name(self, obj: Member) -> str:
        return str(obj.user.get_full_name())

    @admin.display(description=_("roles"))
    def roles_display(self, obj: Member) -> str:
        return obj.get_roles_display()

    @admin.display(description=_("active"), boolean=True, ordering="user__is_active")
    def is_active(self, obj: Member) -> bool:
        return bool(obj.user.is_active)

    def save_model(
        self, request: HttpRequest, obj: Member, form: MemberAdminForm, change: bool
    ) -> None:
        if change:
            raise PermissionDenied
        created = services.agency_first_supervisor_seat(
            actor=signed_in_user(request),
            user=obj.user,
            agency=obj.agency,
            base_url=accounts.base_url(request),
        )
        obj.pk = created.pk
        obj.uuid = created.uuid
        obj.created_at = created.created_at
        obj.is_supervisor = True
        obj._state.adding = False
        obj._state.db = created._state.db


class UserAddForm(_UserModelForm):
    """A new account, without a password: its owner chooses one with a one-time link."""

    class Meta:
        model = User
        fields = ("username", "email", "first_name", "last_name")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].required = True
        self.fields["email"].help_text = _("One-time links to choose a password go here.")


class UserChangeForm(_UserModelForm):
    actor: User  # set per request by ``CasebookUserAdmin.get_form``

    class Meta:
        model = User
        fields = services.ADMIN_USER_FIELDS

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        problem = services.user_status_problem(
            actor=self.actor, user=self.instance, changed=self.changed_data, values=data
        )
        if problem:
            raise ValidationError(problem)
        return data


class CasebookUserAdmin(_UserAdmin):
    """Django's user admin without passwords: nobody sets or changes another person's
    password here, they can only e-mail them a link to choose it. Group membership is
    read-only too: an agency's Group holds its grants on cases, so joining it is done by
    seating someone as a member. Every change is logged under the administrator's name."""

    add_form = UserAddForm
    form = UserChangeForm
    actions = [send_password_link]
    add_fieldsets = ((None, {"fields": ("username", "email", "first_name", "last_name")}),)
    fieldsets = (
        (None, {"fields": ("username",)}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email")}),
        (_("Status"), {"fields": ("is_active", "is_staff", "is_superuser")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    readonly_fields = ("username", "groups", "last_login", "date_joined")

    def has_delete_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> tuple[str, ...]:
        return self.readonly_fields if obj else ()

    def get_form(
        self, request: HttpRequest, obj: User | None = None, change: bool = False, **kwargs: Any
    ) -> "type[forms.ModelForm[User]]":
        form = super().get_form(request, obj, change=change, **kwargs)
        if issubclass(form, UserChangeForm):  # made for this request (modelform_factory)
            form.actor = signed_in_user(request)
        return form

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        raise PermissionDenied

    def save_model(
        self, request: HttpRequest, obj: User, form: UserAddForm | UserChangeForm, change: bool
    ) -> None:
        actor = signed_in_user(request)
        data = form.cleaned_data
        if change:
            values = {name: data[name] for name in services.ADMIN_USER_FIELDS if name in data}
            services.user_update(actor=actor, user=obj, values=values)
            return
        created = services.user_create(
            actor=actor,
            username=data["username"],
            email=data["email"],
            first_name=data.get("first_name", ""),
            last_name=data.get("last_name", ""),
        )
        obj.pk = created.pk
        obj.password = created.password
        obj._state.adding = False
        obj._state.db = created._state.db


admin.site.unregister(User)
admin.site.register(User, CasebookUserAdmin)


def _sign_in_through_casebook(
    request: HttpRequest, extra_context: dict[str, Any] | None = None
) -> HttpResponse:
    # Administrators sign in on Casebook's own page, so that the lockout, the second factor and
    # the access log apply to them exactly as to members; the admin's own form would be a
    # second door to keep in step.
    return redirect_to_login(request.get_full_path(), login_url=reverse("login"))


admin.site.login = _sign_in_through_casebook  # type: ignore[method-assign]  # replaces its sign-in form
