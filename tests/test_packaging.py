"""The package carries its data (read through fineclipper.shipped), so an installed wheel works away from the
repository."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from fineclipper import REPO_ROOT, resolve_path
from fineclipper.shipped import SHIPPED_FOLDERS, shipped_files, shipped_path


def repository_files() -> list[str]:
    """The files of the shipped folders as the repository tracks them."""
    listed = subprocess.run(["git", "ls-files", *SHIPPED_FOLDERS], cwd=REPO_ROOT, capture_output=True, text=True,
                            check=True).stdout.split()
    assert listed, "git lists no file in the shipped folders"
    return sorted(listed)


def test_the_accessor_finds_every_shipped_file():
    files = repository_files()
    assert shipped_files() == files
    for name in files:
        assert shipped_path(name).read_bytes() == (REPO_ROOT / name).read_bytes(), name


def test_the_modules_read_the_shipped_data():
    from fineclipper.config import SCHEMA
    from fineclipper.datasets import SHIPPED_ANNOTATIONS
    from fineclipper.masks.sam import SAM_CONFIG_DIR
    from fineclipper.model.clip import MODEL_CONFIG_DIR
    from fineclipper.model.params import PAPER_RESULTS

    assert SCHEMA == REPO_ROOT / "workflow/schemas/config.schema.yaml"
    assert SHIPPED_ANNOTATIONS == REPO_ROOT / "resources/annotations/dfer-clip"
    assert SAM_CONFIG_DIR == REPO_ROOT / "resources/model_configs/sam"
    assert MODEL_CONFIG_DIR == REPO_ROOT / "resources/model_configs"
    assert PAPER_RESULTS == REPO_ROOT / "resources/paper_results.yaml"


def test_a_config_path_falls_back_to_the_shipped_data(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    prompt = "resources/prompts/describe_movements.txt"
    assert resolve_path(prompt) == REPO_ROOT / prompt
    (tmp_path / "resources/prompts").mkdir(parents=True)
    (tmp_path / prompt).write_text("mine")
    assert resolve_path(prompt) == Path(prompt)  # the working directory's first
    assert resolve_path("resources/none.txt") == Path("resources/none.txt")  # the caller says what is missing


def test_a_path_outside_the_shipped_data_or_missing_is_a_clear_error():
    with pytest.raises(ValueError, match=r"config/dfew.yaml: not in a folder fineclipper ships"):
        shipped_path("config/dfew.yaml")
    with pytest.raises(FileNotFoundError, match=r"resources/none.txt: missing from fineclipper's data"):
        shipped_path("resources/none.txt")


@pytest.mark.slow
def test_the_wheel_carries_every_shipped_file(tmp_path):
    """The wheel built from the tracked files (as a fresh clone has them) holds the shipped folders, and the
    accessor of the installed copy finds each file there, from a folder outside the repository."""
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=REPO_ROOT, capture_output=True, check=True).stdout
    with tarfile.open(tmp_path / "src.tar", "w") as archive:  # keeps the symlinks in fineclipper/data as links
        for name in tracked.decode().split("\0"):
            if name and os.path.lexists(REPO_ROOT / name):
                archive.add(REPO_ROOT / name, arcname=name, recursive=False)
    with tarfile.open(tmp_path / "src.tar") as archive:
        archive.extractall(tmp_path / "src", filter="tar")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w",
                    str(tmp_path / "dist"), "."], cwd=tmp_path / "src", check=True, capture_output=True)
    (wheel,) = (tmp_path / "dist").glob("fineclipper-*.whl")
    files = repository_files()
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        assert {f"fineclipper/data/{name}" for name in files} <= names
        assert archive.read("fineclipper/data/resources/model_configs/FC-Tiny.json") == \
            (REPO_ROOT / "resources/model_configs/FC-Tiny.json").read_bytes()

    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(tmp_path / "site"),
                    str(wheel)], check=True, capture_output=True)
    (tmp_path / "elsewhere").mkdir()
    found = subprocess.run(
        [sys.executable, "-c", "import fineclipper, fineclipper.shipped as s; print(fineclipper.__file__); "
                               "print(*(s.shipped_path(f) for f in s.shipped_files()), sep='\\n')"],
        cwd=tmp_path / "elsewhere", env={"PYTHONPATH": str(tmp_path / "site")}, capture_output=True, text=True)
    assert found.returncode == 0, found.stderr[-2000:]
    package, *paths = found.stdout.splitlines()
    site = tmp_path / "site" / "fineclipper"
    assert package == str(site / "__init__.py")
    assert paths == [str(site / "data" / name) for name in files]
