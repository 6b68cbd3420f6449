"""Exception hierarchy for shangquan.

A user's mistake (a bad file, a wrong option) raises an :class:`InputDataError`
whose message names the input and says how to fix it. The CLI turns it into one
line and a non-zero exit; programming errors still raise normally.
"""

from __future__ import annotations


class ShangquanError(Exception):
    """Base class for every error shangquan raises on purpose."""


class InputDataError(ShangquanError, ValueError):
    """An input file or value cannot be used; the message says which and why."""


class CRSMismatchError(ShangquanError, ValueError):
    """Two inputs are in different coordinate reference systems."""
