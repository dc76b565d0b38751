"""PLACEHOLDER: being written."""


def dashboard(request, **kwargs):  # placeholder
    raise NotImplementedError


def member_list(request, **kwargs):  # placeholder
    raise NotImplementedError


def member_add(request, **kwargs):  # placeholder
    raise NotImplementedError


def member_edit(request, **kwargs):  # placeholder
    raise NotImplementedError
