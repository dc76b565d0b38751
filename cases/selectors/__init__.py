"""Permission-aware reads of case data: the only way views, tasks and exports get case rows.

Visibility is one SQL filter, an ``Exists()`` over the direct foreign-key permission table
(``CaseGroupObjectPermission``) for the groups of the asking user's agency. A member of
another agency gets 404 for what they may not see, never 403: existence is not disclosed.
Superusers get nothing implicitly: they administer the installation, not its cases.

Sharing (a later issue) adds rows to the permission table; it changes data, not this code.

Callers use this package (``from cases import selectors``; ``selectors.case_list(...)``); the
modules split it by what they read: ``grants`` (live grants, visibility, permissions),
``access`` (``CaseAccess`` values for many cases, the grant rows of cases), ``cases`` (case
list, counts, one case, dashboard), ``records`` (what lives under one case), ``visible`` (the
cross-case readers every channel uses: entities, relationships, movements and matches across
the cases a user may see, masked per row), ``sharing`` (shares), ``hits`` (cross-case hits,
common keys) and ``history`` (a case's timeline and change history). A module calls another's
functions through its own import of them: to replace one (``mock.patch``), patch it where it
is called (``cases.selectors.cases.visible_to``), not only here.
"""

from cases.permissions import ACTIONS, CaseAccess, permission_id
from cases.selectors.access import (
    GrantRow,
    case_access,
    case_accesses,
    case_grant_rows,
)
from cases.selectors.cases import (
    CASE_ORDERINGS,
    OPEN_STATUSES,
    CaseFilters,
    CaseResults,
    agency_open_cases,
    case_count,
    case_country_list,
    case_list,
    dashboard_counts,
    get_case_access,
)
from cases.selectors.grants import (
    agency_group_ids,
    can_see_protected,
    case_permissions,
    live_grants,
    visible_case_ids,
    visible_to,
)
from cases.selectors.hits import (
    HitList,
    HitRow,
    common_key_list,
    entity_matches,
    get_common_key_for_supervisor,
    get_hit_for_user,
    hit_list,
)
from cases.selectors.records import (
    CaseRecords,
    case_records,
    custody_list,
    entity_holdings,
    entity_list,
    entity_movements,
    entity_ordering,
    entity_relationships,
    evidence_list,
    get_entity_for_removal,
    get_entity_for_user,
    get_evidence_for_user,
    get_movement_for_user,
    get_relationship_for_user,
    match_key_list,
    movement_list,
    note_list,
    order_entities,
    relationship_list,
)
from cases.selectors.sharing import (
    code_change_conflicts,
    get_share_for_user,
    reshare_expiry_limit,
    share_list,
    share_target_agencies,
)
from cases.selectors.visible import (
    MatchEdge,
    visible_entities,
    visible_matches,
    visible_movements,
    visible_relationships,
)

__all__ = [
    "ACTIONS",
    "CASE_ORDERINGS",
    "CaseAccess",
    "CaseFilters",
    "CaseRecords",
    "CaseResults",
    "GrantRow",
    "HitList",
    "HitRow",
    "MatchEdge",
    "OPEN_STATUSES",
    "agency_group_ids",
    "agency_open_cases",
    "can_see_protected",
    "case_access",
    "case_accesses",
    "case_count",
    "case_country_list",
    "case_grant_rows",
    "case_list",
    "case_permissions",
    "case_records",
    "code_change_conflicts",
    "common_key_list",
    "custody_list",
    "dashboard_counts",
    "entity_holdings",
    "entity_list",
    "entity_matches",
    "entity_movements",
    "entity_ordering",
    "entity_relationships",
    "evidence_list",
    "get_case_access",
    "get_common_key_for_supervisor",
    "get_entity_for_removal",
    "get_entity_for_user",
    "get_evidence_for_user",
    "get_hit_for_user",
    "get_movement_for_user",
    "get_relationship_for_user",
    "get_share_for_user",
    "hit_list",
    "live_grants",
    "match_key_list",
    "movement_list",
    "note_list",
    "order_entities",
    "permission_id",
    "relationship_list",
    "reshare_expiry_limit",
    "share_list",
    "share_target_agencies",
    "visible_case_ids",
    "visible_entities",
    "visible_matches",
    "visible_movements",
    "visible_relationships",
    "visible_to",
]
