"""Sharing a case with other agencies, the TLP 2.0 policy table (``cases.rules``):
who may grant, where recipients may re-share, who may export, one row or column at a
time."""

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from casebook.models import Agency
from cases import rules
from tests.cases.sharing_helpers import Code, Level, share, stored
from tests.factories import make_case

# --- the policy table, one row or column at a time ---------------------------------------------

GRANT: dict[str, tuple[bool, bool]] = {
    # code: (owner may grant, a manage-level recipient may grant)
    Code.RED: (True, False),
    Code.AMBER_STRICT: (True, False),
    Code.AMBER: (True, True),
    Code.GREEN: (True, True),
    Code.CLEAR: (True, True),
}
RESHARE: dict[str, tuple[bool, bool]] = {
    # code: (to the recipient's own country, to another country)
    Code.RED: (False, False),
    Code.AMBER_STRICT: (False, False),
    Code.AMBER: (True, False),
    Code.GREEN: (True, True),
    Code.CLEAR: (True, True),
}
EXPORT: dict[str, bool] = {
    Code.RED: False,
    Code.AMBER_STRICT: True,  # the export must stay within the recipient's agency
    Code.AMBER: True,
    Code.GREEN: True,
    Code.CLEAR: True,
}


@pytest.mark.parametrize("code", list(GRANT))
def test_who_may_grant_a_share_follows_the_table(code: str) -> None:
    owner, recipient = GRANT[code]
    assert rules.may_grant(code, is_owner=True, actor_level=None) is owner
    assert rules.may_grant(code, is_owner=False, actor_level=Level.MANAGE) is recipient
    # Recipients below the manage level never grant.
    assert rules.may_grant(code, is_owner=False, actor_level=Level.CONTRIBUTE) is False
    assert rules.may_grant(code, is_owner=False, actor_level=Level.VIEW) is False


@pytest.mark.parametrize("code", list(RESHARE))
def test_where_recipients_may_reshare_follows_the_table(
    code: str, cr_police: Agency, cr_prosecution: Agency, gt_police: Agency
) -> None:
    same_country, other_country = RESHARE[code]
    assert (
        rules.may_reshare_to(code, actor_agency=cr_police, target_agency=cr_prosecution)
        is same_country
    )
    assert (
        rules.may_reshare_to(code, actor_agency=cr_police, target_agency=gt_police) is other_country
    )


@pytest.mark.parametrize("code", list(EXPORT))
def test_who_may_export_follows_the_table(
    code: str, investigator: Any, outsider: Any, supervisor: Any
) -> None:
    the_case = make_case(investigator, handling_code=code)
    assert rules.may_export(investigator, the_case) is True
    share(supervisor, the_case, outsider.member.agency)
    assert rules.may_export(outsider, the_case) is EXPORT[code]


def test_the_rules_table_covers_every_handling_code() -> None:
    assert set(rules.HANDLING_RULES) == set(Code.values)


@pytest.mark.parametrize("code", list(GRANT))
def test_a_manage_recipient_reshares_exactly_as_the_code_allows(
    code: str,
    investigator: Any,
    supervisor: Any,
    cr_police: Agency,
    cr_supervisor: Any,
    cr_prosecution: Agency,
    gt_police: Agency,
) -> None:
    the_case = make_case(investigator, handling_code=code)
    share(supervisor, the_case, cr_police, Level.MANAGE)
    same_country, other_country = RESHARE[code]
    for target, allowed in ((cr_prosecution, same_country), (gt_police, other_country)):
        before = stored()
        if allowed:
            reshare = share(cr_supervisor, the_case, target)
            assert reshare.is_reshare
            assert reshare.granted_by_agency == cr_police
        else:
            with pytest.raises(ValidationError):
                share(cr_supervisor, the_case, target)
            assert stored() == before
