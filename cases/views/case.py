"""PLACEHOLDER: being written."""


def case_create(request, **kwargs):  # placeholder
    raise NotImplementedError


def case_detail(request, **kwargs):  # placeholder
    raise NotImplementedError


def case_edit(request, **kwargs):  # placeholder
    raise NotImplementedError


def case_list(request, **kwargs):  # placeholder
    raise NotImplementedError
