"""The one error digitnet raises for bad input: its message is a complete sentence
that the command line prints on one line."""


class DigitnetError(ValueError):
    pass
