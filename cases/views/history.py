"""PLACEHOLDER: being written."""


def case_history(request, **kwargs):  # placeholder
    raise NotImplementedError


def case_timeline(request, **kwargs):  # placeholder
    raise NotImplementedError
