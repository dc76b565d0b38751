"""PLACEHOLDER: being written."""


def evidence_add(request, **kwargs):  # placeholder
    raise NotImplementedError


def evidence_detail(request, **kwargs):  # placeholder
    raise NotImplementedError


def evidence_download(request, **kwargs):  # placeholder
    raise NotImplementedError


def movement_add(request, **kwargs):  # placeholder
    raise NotImplementedError


def movement_remove(request, **kwargs):  # placeholder
    raise NotImplementedError


def note_add(request, **kwargs):  # placeholder
    raise NotImplementedError


def relationship_add(request, **kwargs):  # placeholder
    raise NotImplementedError


def relationship_remove(request, **kwargs):  # placeholder
    raise NotImplementedError
