"""``{% member_sign_in member %}``: a member's sign-in state and actions, on their page."""

from typing import Any

from django import template

from casebook.models import Member
from casebook.signin import selectors

register = template.Library()


@register.inclusion_tag("casebook/signin/_member_sign_in.html", takes_context=True)
def member_sign_in(context: template.Context, member: Member) -> dict[str, Any]:
    """For a supervisor's page about ``member`` (fetched with ``get_member_for_supervisor``):
    until when the account is locked, and whether it has an authenticator. Two queries."""
    return {
        "member": member,
        "csrf_token": context.get("csrf_token"),
        "locked_until": selectors.account_locked_until(member.user.get_username()),
        "has_authenticator": selectors.has_authenticator(member.user),
    }
