"""The package carries its data (read through fineclipper.shipped) and its checkpoints their architecture, so an
installed wheel works away from the repository."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
import torch

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


def tiny_checkpoint(path: Path, clip_model: str = "FC-Tiny") -> dict:
    """An untrained tiny model saved as training saves one; its state."""
    from fineclipper.train.checkpoint import build_model, checkpoint_state, save_checkpoint

    model = build_model({"clip_model": clip_model, "pretrained": None, "num_frames": 4}, ["calm", "happy"], "cpu")
    state = checkpoint_state(model, {}, epoch=0, preprocessing={})
    save_checkpoint(path, state)
    return state


def renamed(state: dict, clip_model: str) -> dict:
    """The checkpoint state as if its CLIP architecture had another name."""
    return {**state, "model_config": {**state["model_config"], "clip_model": clip_model},
            "clip": {**state["clip"], "model": clip_model}}


def frozen_total(model) -> float:
    return sum(float(p.double().sum()) for p in model.clip.parameters())


def test_a_checkpoint_of_a_local_architecture_loads_where_it_is_unknown(tmp_path, caplog):
    """A CLIP architecture open_clip does not define travels in the checkpoint: under a name open_clip never
    heard of, the same frozen backbone is built from it, and the recorded one wins over a config file of the
    same name. A checkpoint from before they were recorded needs the name registered."""
    import open_clip

    from fineclipper.train.checkpoint import load_trained

    architecture = json.loads(shipped_path("resources/model_configs/FC-Tiny.json").read_text())
    architecture["text_cfg"]["width"] = 48  # not FC-Tiny's: the loader cannot be reading FC-Tiny.json
    (tmp_path / "FC-Elsewhere.json").write_text(json.dumps(architecture))
    open_clip.add_model_config(tmp_path / "FC-Elsewhere.json")
    state = tiny_checkpoint(tmp_path / "best.pt", "FC-Elsewhere")
    trained, _ = load_trained(tmp_path / "best.pt", "cpu")
    assert state["clip"]["architecture"] == architecture and trained.clip.transformer.width == 48

    torch.save(renamed(state, "FC-Nowhere"), tmp_path / "unknown.pt")
    assert open_clip.get_model_config("FC-Nowhere") is None
    model, _ = load_trained(tmp_path / "unknown.pt", "cpu")
    assert model.clip.transformer.width == 48 and frozen_total(model) == frozen_total(trained)

    torch.save(renamed(state, "FC-Tiny"), tmp_path / "same-name.pt")  # FC-Tiny.json's text width is 64
    try:
        model, _ = load_trained(tmp_path / "same-name.pt", "cpu")
    finally:
        open_clip.add_model_config(shipped_path("resources/model_configs/FC-Tiny.json"))  # FC-Tiny's for the others
    assert model.clip.transformer.width == 48 and frozen_total(model) == frozen_total(trained)
    assert "same-name.pt: its CLIP architecture FC-Tiny differs from the model config of that name" in caplog.text

    old = renamed(state, "FC-Gone")
    del old["clip"]["architecture"]
    torch.save(old, tmp_path / "old.pt")
    with pytest.raises(ValueError, match=r"old.pt: its CLIP model FC-Gone is no architecture open_clip knows"):
        load_trained(tmp_path / "old.pt", "cpu")


def test_open_clips_own_architectures_are_not_recorded_and_old_checkpoints_load(tmp_path):
    from fineclipper.model.clip import local_architecture
    from fineclipper.train.checkpoint import load_trained

    assert local_architecture("ViT-B-16") is None
    state = tiny_checkpoint(tmp_path / "best.pt")
    assert state["clip"]["architecture"] == json.loads(shipped_path("resources/model_configs/FC-Tiny.json").read_text())
    del state["clip"]["architecture"]  # FC-Tiny is registered from the shipped configs
    torch.save(state, tmp_path / "old.pt")
    model, _ = load_trained(tmp_path / "old.pt", "cpu")
    assert model.clip.transformer.width == 64


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
