"""The installation administrators' admin: countries, agencies, members and users.

Administrators set agencies up and seat their first supervisors; supervisors manage their
own members in Casebook itself. Agencies and members are never deleted (cases, grants and
history point at them): users are deactivated instead. Case content is not in the admin at
all (see ``cases/admin.py``).
"""

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import ValidationError
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from casebook import services
from casebook.models import Agency, Country, Member


@admin.register(Country)
class CountryAdmin(admin.ModelAdmin):
    """Read-only: the 23 member states are loaded by a data migration."""

    list_display = ("code", "name", "conference")
    list_filter = ("conference",)
    search_fields = ("code", "name")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class _NoDeleteMixin:
    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Agency)
class AgencyAdmin(_NoDeleteMixin, SimpleHistoryAdmin):
    list_display = ("name", "acronym", "country", "kind", "contact_point")
    list_filter = ("kind", "country")
    list_select_related = ("country",)
    search_fields = ("name", "acronym", "contact_point")
    readonly_fields = ("uuid", "group", "created_at")
    fields = ("name", "acronym", "country", "kind", "contact_point", *readonly_fields)

    def save_model(self, request: HttpRequest, obj: Agency, form: ModelForm, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        # A new agency gets its Group from the service; the admin then carries on with ``obj``
        # (log entry, redirect), so it takes on the saved row's identity.
        created = services.agency_create(
            actor=request.user,
            name=obj.name,
            country=obj.country,
            kind=obj.kind,
            acronym=obj.acronym,
            contact_point=obj.contact_point,
        )
        for field in Agency._meta.concrete_fields:
            setattr(obj, field.attname, getattr(created, field.attname))
        obj._state.adding = False
        obj._state.db = created._state.db


class MemberAdminForm(ModelForm):
    """Checks what ``services.member_enrol`` would refuse, so the admin shows it next to the
    fields instead of failing on save."""

    actor: Any = None  # set per request by ``MemberAdmin.get_form``

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not any(data.get(f"is_{role}") for role in Member.Role.values):
            raise ValidationError(_("Choose at least one role."))
        user = data.get("user")
        adding = self.instance._state.adding
        if adding and user is not None and self.actor is not None and user.pk == self.actor.pk:
            self.add_error("user", _("You cannot make yourself a member of an agency."))
        return data


@admin.register(Member)
class MemberAdmin(_NoDeleteMixin, SimpleHistoryAdmin):
    form = MemberAdminForm
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
    fields = ("user", "agency", "is_investigator", "is_prosecutor", "is_analyst", "is_supervisor")

    def get_readonly_fields(self, request: HttpRequest, obj: Member | None = None) -> Any:
        # Moving a member between agencies would carry their account into another agency's
        # cases; a person who changes agency gets a new account instead.
        return ("user", "agency", "uuid", "created_at") if obj else ("uuid", "created_at")

    def get_fields(self, request: HttpRequest, obj: Member | None = None) -> Any:
        return (*self.fields, "uuid", "created_at") if obj else self.fields

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        form.actor = request.user  # a class made for this request by modelform_factory
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

    def save_model(self, request: HttpRequest, obj: Member, form: ModelForm, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        # A new member joins their agency's Group too, through the service.
        roles = [role for role in Member.Role.values if getattr(obj, f"is_{role}")]
        created = services.member_enrol(
            actor=request.user, user=obj.user, agency=obj.agency, roles=roles
        )
        obj.pk = created.pk
        obj.uuid = created.uuid
        obj.created_at = created.created_at
        obj._state.adding = False
        obj._state.db = created._state.db


User = get_user_model()


class CasebookUserAdmin(UserAdmin):
    """Django's user admin, except that group membership is read-only here: an agency's Group
    holds its grants on cases, so joining it is done by making someone a member."""

    readonly_fields = ("groups", "last_login", "date_joined")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


admin.site.unregister(User)
admin.site.register(User, CasebookUserAdmin)
