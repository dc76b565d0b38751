"""Nothing of the cases app is registered in the Django admin, on purpose.

Superusers administer the installation (countries, agencies, members, users); they are not a
back door into case content. Cases, entities, relationships, movements, notes, evidence, the
chain of custody and the grants on cases are read only through the permission-aware
selectors (``cases.selectors``) and written only through the services (``cases.services``),
which check who acts, keep the change history and the chain of custody, and keep the match
keys in step. An admin page would bypass all of that, so there is none: ``/admin/cases/...``
is a 404 for everyone (tested in ``tests/casebook/test_admin.py``).
"""
