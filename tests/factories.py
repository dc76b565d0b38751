"""factory_boy factories. Case data is created through the services, as users create it, so
that permissions, references, match keys and history are real.

Create with ``Factory.create(...)``: it is typed to return the model instance, where calling
the factory class itself reads to mypy as making a factory."""

import datetime
from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, User

from casebook.models import Agency, Country, Member
from cases import selectors, services
from cases.models import Case, Entity

PASSWORD = "correct-horse-battery-staple"


class GroupFactory(factory.django.DjangoModelFactory[Group]):
    class Meta:
        model = Group

    name = factory.Sequence(lambda n: f"agency-{n}")


class AgencyFactory(factory.django.DjangoModelFactory[Agency]):
    class Meta:
        model = Agency

    country = factory.LazyFunction(lambda: Country.objects.get(code="PA"))
    name = factory.Sequence(lambda n: f"Agency {n}")
    acronym = factory.Sequence(lambda n: f"AG{n}")
    kind = Agency.Kind.POLICE
    contact_point = factory.Sequence(lambda n: f"desk{n}@agency.example")
    group = factory.SubFactory(GroupFactory)


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@agency.example")
    password = factory.django.Password(PASSWORD)


def make_member(agency: Agency, *roles: str, username: str | None = None) -> User:
    """A user who is a member of ``agency`` with ``roles``; returns the user."""
    user = UserFactory.create(**({"username": username} if username else {}))
    Member.objects.create(user=user, agency=agency, **{f"is_{role}": True for role in roles})
    user.groups.add(agency.group)
    return user


def make_case(user: User, **values: Any) -> Case:
    """A case owned by the user's agency, created through ``case_create``."""
    defaults: dict[str, Any] = {
        "title": "Smuggling of migrants through the Darién",
        "kind": Case.Kind.SMUGGLING,
        "handling_code": Case.HandlingCode.AMBER,
        "opened_on": datetime.date(2026, 3, 1),
    }
    defaults.update(values)
    return services.case_create(actor=user, agency=user.member.agency, **defaults)


def make_entity(user: User, case: Case, kind: str = Entity.Kind.PERSON, **values: Any) -> Entity:
    defaults: dict[str, Any] = {"role": Entity.Role.SUSPECT}
    if kind == Entity.Kind.PERSON:
        defaults["name"] = "José Pérez"
    elif kind == Entity.Kind.LOCATION:
        defaults.update(
            name="Bajo Chiquito", subtype="camp", identifier_country="PA", role=Entity.Role.OTHER
        )
    elif kind == Entity.Kind.PHONE:
        defaults.update(identifier="+507 6123 4567", identifier_country="PA")
    defaults.update(values)
    return services.entity_add(access=selectors.case_access(user, case), kind=kind, **defaults)
