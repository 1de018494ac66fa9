"""The one error of bank statement reading: the file as a whole cannot be used."""


class StatementError(ValueError):
    """The file is unusable as a statement; the message is worded for the Finance user.

    A single bad entry is not this error: it becomes a `Problem` on the `Statement` and the
    rest of the file is read.
    """
