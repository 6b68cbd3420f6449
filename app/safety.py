"""Keep user-supplied paths and uploads inside the folders they are meant for.

A shared Streamlit server runs one process for every planner: a path typed into the
sidebar (or given as ``?builds=``) must not let anyone read elsewhere on the server, and
an uploaded file's name must never become a path. No streamlit import here (testable).
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from geo.errors import InputDataError

REPO = Path(__file__).resolve().parents[1]
ENV_ROOTS = "SHANGQUAN_DATA_ROOTS"  # extra readable folders, separated by os.pathsep
ENV_BUILDS = "SHANGQUAN_BUILDS"
UPLOAD_SUFFIXES = (".csv", ".txt", ".xlsx", ".geojson", ".json")
MAX_UPLOAD_MB = 50


def allowed_roots() -> list[Path]:
    """Folders the app may read: the repo's builds/ and data, ../shared/data, and the
    folders named by ``$SHANGQUAN_BUILDS`` and ``$SHANGQUAN_DATA_ROOTS``."""
    roots = [
        REPO / "builds",
        REPO / "data",
        REPO / "tests" / "data",
        REPO.parent / "shared" / "data",
    ]
    if os.environ.get(ENV_BUILDS):
        roots.append(Path(os.environ[ENV_BUILDS]))
    roots += [Path(p) for p in os.environ.get(ENV_ROOTS, "").split(os.pathsep) if p.strip()]
    return [r.expanduser().resolve() for r in roots]


def inside_allowed(user_path: str | Path, *, roots: list[Path] | None = None) -> Path:
    """``user_path`` resolved (``..`` and symlinks followed) if it lies inside an allowed root.

    Raises
    ------
    InputDataError
        The path leaves the allowed folders; the message lists them and says how to add one.
    """
    allowed = roots if roots is not None else allowed_roots()
    p = Path(str(user_path)).expanduser().resolve()
    if any(p == r or r in p.parents for r in allowed):
        return p
    msg = (
        f"{user_path}: outside the folders this server may read "
        f"({', '.join(str(r) for r in allowed)}); the administrator can add a folder to "
        f"${ENV_ROOTS}"
    )
    raise InputDataError(msg)


def safe_upload_name(name: str) -> str:
    """A harmless file name for an upload: its base name, letters/digits/CJK/._- only.

    Raises
    ------
    InputDataError
        The file type is not a supported table.
    """
    base = re.split(r"[\\/]", name)[-1]
    suffix = Path(base).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        msg = f"{base}: unsupported file type; upload one of {', '.join(UPLOAD_SUFFIXES)}"
        raise InputDataError(msg)
    stem = re.sub(r"[^\w.-]", "_", Path(base).stem).strip("._") or "upload"
    return f"{stem[:80]}{suffix}"


def check_upload_size(name: str, size_bytes: int, *, max_mb: float = MAX_UPLOAD_MB) -> None:
    """Raise a clear error for an upload larger than ``max_mb``."""
    if size_bytes > max_mb * 1024 * 1024:
        msg = (
            f"{name}: {size_bytes / 1024 / 1024:.1f} MB is larger than the {max_mb:.0f} MB "
            "upload limit; split the table or ask the administrator to load it as a file"
        )
        raise InputDataError(msg)


def store_upload(name: str, data: bytes, *, folder: Path | None = None) -> Path:
    """Write an upload under a sanitised name in a private temporary folder; return the path."""
    check_upload_size(name, len(data))
    target_dir = folder or Path(tempfile.mkdtemp(prefix="shangquan-upload-"))
    path = target_dir / safe_upload_name(name)
    path.write_bytes(data)
    return path
