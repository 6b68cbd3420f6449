"""Read a TOML data file and report its problems: one place for every TOML loader.

Every failure is an :class:`~geo.errors.InputDataError` naming the file: missing, unreadable,
not UTF-8 TOML, nested too deeply, or an integer too long to parse (the fuzzer found each).
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from geo.errors import InputDataError


def read_toml(path: str | Path, *, what: str) -> dict[str, Any]:
    """The parsed TOML document at ``path``; ``what`` names the file in messages ("rules")."""
    p = Path(path)
    try:
        return tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        msg = f"{p}: {what} file not found"
        raise InputDataError(msg) from exc
    except ValueError as exc:  # TOMLDecodeError, UnicodeDecodeError, an int over 4300 digits
        msg = f"{p}: not a valid UTF-8 TOML file ({exc})"
        raise InputDataError(msg) from exc
    except RecursionError as exc:
        msg = f"{p}: not a valid TOML file (arrays or tables nested too deeply)"
        raise InputDataError(msg) from exc
    except OSError as exc:
        msg = f"{p}: cannot read the {what} file ({exc.strerror or exc})"
        raise InputDataError(msg) from exc


def raise_problems(path: str | Path, problems: Sequence[str], *, title: str) -> None:
    """Raise one error listing every problem (``title``: "the life-circle rules"), if any."""
    if problems:
        listing = "\n  ".join(problems)
        msg = f"{path}: {len(problems)} problem(s) in {title}:\n  {listing}"
        raise InputDataError(msg)
