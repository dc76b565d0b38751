"""Writes to cases and everything under them: the only way case data changes.

Every service takes keyword-only arguments, writes inside one transaction, records the acting
user in the change history and raises ``ValidationError`` keyed by form field (leaving the
database as it was) for data that breaks a rule. Callers use this package
(``from cases import services``; ``services.entity_add(...)``); the modules split it by what
they write: ``cases`` (the case itself), ``entities``, ``records`` (relationships,
movements, notes), ``evidence``, ``sharing`` (shares, handling code) and ``hits`` (hit
detection, common keys). Inside the package, modules import each other's functions directly.
"""

from cases.services.cases import (
    CASE_FIELDS,
    case_create,
    case_update,
    grant_owner_permissions,
    next_reference,
)
from cases.services.entities import (
    ENTITY_FIELDS,
    entity_add,
    entity_match_keys,
    entity_remove,
    entity_update,
)
from cases.services.evidence import (
    check_upload,
    evidence_add,
    evidence_record_download,
    evidence_verify_integrity,
)
from cases.services.hits import (
    common_key_mark,
    common_key_restore,
    detection_request,
    detections_release,
    hit_dismiss,
    hits_detect,
    hits_notify,
    hits_redetect_key,
)
from cases.services.records import (
    movement_add,
    movement_remove,
    note_add,
    relationship_add,
    relationship_remove,
)
from cases.services.sharing import (
    KEEP,
    REVOKE,
    case_set_handling_code,
    case_share,
    case_update_with_code,
    share_revoke,
    shares_expire,
)

__all__ = [
    "CASE_FIELDS",
    "ENTITY_FIELDS",
    "KEEP",
    "REVOKE",
    "case_create",
    "case_set_handling_code",
    "case_share",
    "case_update",
    "case_update_with_code",
    "check_upload",
    "common_key_mark",
    "common_key_restore",
    "detection_request",
    "detections_release",
    "entity_add",
    "entity_match_keys",
    "entity_remove",
    "entity_update",
    "evidence_add",
    "evidence_record_download",
    "evidence_verify_integrity",
    "grant_owner_permissions",
    "hit_dismiss",
    "hits_detect",
    "hits_notify",
    "hits_redetect_key",
    "movement_add",
    "movement_remove",
    "next_reference",
    "note_add",
    "relationship_add",
    "relationship_remove",
    "share_revoke",
    "shares_expire",
]
