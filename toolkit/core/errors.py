"""Errors that stop a command before it can run (exit code 2), with a Chinese message saying what to do."""


class UsageProblem(Exception):
    """Bad arguments, an unreadable master, a master open in Excel/WPS, a held lock."""
