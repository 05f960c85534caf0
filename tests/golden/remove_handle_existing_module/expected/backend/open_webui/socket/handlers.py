"""Chat handlers."""


def other():
    return 1
