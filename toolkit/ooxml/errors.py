"""The one exception the file backend raises for a master it cannot patch."""


class PackageError(Exception):
    """The master is malformed or of a kind brandkit cannot patch; the message (Chinese) says what and
    what to do."""
