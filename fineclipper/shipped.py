"""The data the package ships, read through ``importlib.resources``: the config schema, the model configs,
the describe prompt, the DFER-CLIP fold lists and the paper's results.

They live in the repository's ``resources/`` and ``workflow/schemas/``; ``fineclipper/data/`` holds symlinks
to those two folders, so a checkout (``PYTHONPATH`` or ``pip install -e .``) reads them in place and a wheel
carries copies. A shipped file is named by its path in the repository, ``"resources/paper_results.yaml"``.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

#: The repository folders the package ships, by their path in the repository.
SHIPPED_FOLDERS = ("resources", "workflow/schemas")


def data_root() -> Path:
    """The package's data folder (``fineclipper/data``); an installation that does not unpack the package
    into files (a zip import) is a clear error."""
    root = files(__package__) / "data"
    if not isinstance(root, Path):
        raise RuntimeError(f"fineclipper's data is not in a folder ({root!r}): install the package unpacked "
                           "(pip install), not as a zip")
    return root


def shipped_path(relative: str | Path) -> Path:
    """The file or folder the package ships at this repository path (``"resources/model_configs"``), with
    symlinks resolved (in a checkout: the repository's own file); one outside the shipped folders, or missing
    from the installation, is a clear error naming it."""
    if not any(Path(relative).is_relative_to(folder) for folder in SHIPPED_FOLDERS):
        raise ValueError(f"{relative}: not in a folder fineclipper ships ({', '.join(SHIPPED_FOLDERS)})")
    path = data_root() / relative
    if not path.exists():
        raise FileNotFoundError(f"{relative}: missing from fineclipper's data ({path}); the installation is "
                                "incomplete: reinstall the package")
    return path.resolve()


def shipped_files() -> list[str]:
    """Every file the package ships, by its repository path, sorted."""
    return sorted((Path(folder) / path.relative_to(shipped_path(folder))).as_posix() for folder in SHIPPED_FOLDERS
                  for path in shipped_path(folder).rglob("*") if path.is_file())
