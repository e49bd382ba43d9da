"""The error Sijil reports to people in plain words (no stack trace, no personal data)."""


class SijilError(Exception):
    """A failure to report to the user as it is: it names the file, row or setting at fault."""
