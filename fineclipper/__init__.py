"""FineCLIPER: staged preprocessing for dynamic facial expression recognition and a CLIP-adapter model."""

from pathlib import Path

__version__ = "0.1.0"

#: Repository root when running from a checkout (resources/, config/ live here).
REPO_ROOT = Path(__file__).resolve().parent.parent


def resolve_path(configured: str | Path) -> Path:
    """A path from a config: from the working directory, else (a relative path missing there) from the repository."""
    path = Path(configured)
    if not path.is_absolute() and not path.exists() and (REPO_ROOT / path).exists():
        return REPO_ROOT / path
    return path
