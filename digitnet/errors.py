"""The one error digitnet raises for bad input: its message is a complete sentence
that the command line prints on one line."""


class DigitnetError(ValueError):
    pass


def one_line(error):
    """The first line of a library's error message, to quote inside ours."""
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


class MissingExtra(DigitnetError, ImportError):
    """An optional package is not installed; the message says which extra installs it. Also
    an ImportError, so that ``except ImportError`` around an import catches it as usual."""


def missing(error, module, package, extra):
    """What to raise for ``error``, a ModuleNotFoundError met importing the optional ``module``:
    a MissingExtra if ``module`` itself is what is missing, else ``error`` (the package is
    there, but something it needs is not)."""
    if error.name != module:
        return error
    return MissingExtra(f"{package} is not installed: pip install 'digitnet[{extra}]'")
