"""Errors a user can cause. The CLI prints their message as one sentence, without a traceback."""

from __future__ import annotations


class UserError(Exception):
    """Bad input from the user (a missing file, a bad tag name, a corrupt image, a wrong resolution).

    The message must name the thing and say how to fix it.
    """


class UnknownTagError(UserError, KeyError):
    """A tag name that is not one of the 34 tags of the schema."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])
