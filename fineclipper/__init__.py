"""FineCLIPER: staged preprocessing for dynamic facial expression recognition and a CLIP-adapter model."""

from pathlib import Path

from .shipped import data_root

__version__ = "0.1.0"

#: Repository root when running from a checkout (config/, rules/ live here); an installed package reads its
#: data (resources/, the config schema) through :mod:`fineclipper.shipped` instead.
REPO_ROOT = Path(__file__).resolve().parent.parent


def resolve_path(configured: str | Path) -> Path:
    """A path from a config: from the working directory, else (a relative path missing there) from the data the
    package ships (``resources/...``), else from the repository."""
    path = Path(configured)
    if path.is_absolute() or path.exists():
        return path
    if (data_root() / path).exists():
        return (data_root() / path).resolve()
    return REPO_ROOT / path if (REPO_ROOT / path).exists() else path
