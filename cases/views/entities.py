"""PLACEHOLDER: being written."""


def entity_add(request, **kwargs):  # placeholder
    raise NotImplementedError


def entity_detail(request, **kwargs):  # placeholder
    raise NotImplementedError


def entity_edit(request, **kwargs):  # placeholder
    raise NotImplementedError


def entity_remove(request, **kwargs):  # placeholder
    raise NotImplementedError
