"""The one error digitnet raises for bad input: its message is a complete sentence
that the command line prints on one line."""


class DigitnetError(ValueError):
    pass


def one_line(error):
    """The first line of a library's error message, to quote inside ours."""
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
