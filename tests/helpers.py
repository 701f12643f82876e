"""What the test modules share: the one Snakemake runner and its job-count reader, every stage in-process on
a chunk, the tiny model, free ports, image encoding. Test modules import from here (and from media.py), never
from each other (tests/test_structure.py checks)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch
import yaml

from fineclipper import REPO_ROOT

#: The demo's four classes, in the demo's order.
CLASSES = ["neutral", "happiness", "surprise", "anger"]
#: A tiny FineCLIPER on a random frozen CLIP (resources/model_configs/FC-Tiny.json), for fast training in tests.
TINY = {"clip_model": "FC-Tiny", "pretrained": None, "num_frames": 4}
#: FC-Tiny's image normalisation: OpenAI's CLIP mean and standard deviation.
MEAN, STD = (0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)
#: Environment for subprocesses that train: one thread each, so that two ranks share 2 cores fairly.
ONE_THREAD = {**os.environ, "OMP_NUM_THREADS": "1"}

#: The test now running and whether it carries @pytest.mark.e2e, set by tests/conftest.py before each test's
#: fixtures are set up.
running_test = {"name": None, "e2e": False}


def require_e2e(what: str) -> None:
    """Fail the running test unless it is marked @pytest.mark.e2e: it ``what`` (starts Snakemake, training or
    the stages in subprocesses), which the quick loop (`pytest -m "not e2e"`) must not do."""
    if not running_test["e2e"]:
        raise AssertionError(f"{running_test['name']} {what}: mark it @pytest.mark.e2e, or the quick loop "
                             f"(-m 'not e2e') runs it")


def snakemake_command(workdir: Path, *args: str, configs=("config.yaml",)) -> list[str]:
    """The command line of Snakemake on this repository's Snakefile in ``workdir``, with ``configs`` (paths
    relative to ``workdir``, or absolute; none: the Snakefile's own config/config.yaml). Only in an e2e test."""
    require_e2e("starts Snakemake")
    configfiles = ["--configfile", *(str(workdir / c) for c in configs)] if configs else []
    return [sys.executable, "-m", "snakemake", "--snakefile", str(REPO_ROOT / "Snakefile"), "--directory",
            str(workdir), *configfiles, *args]


def snakemake(workdir: Path, *args: str, configs=("config.yaml",), check: bool = True, timeout: int | None = None,
              **run_options) -> subprocess.CompletedProcess:
    """Run Snakemake (see snakemake_command) in ``workdir``, its jobs importing this checkout's fineclipper.
    ``check``: a non-zero exit fails the test with the end of both outputs. ``timeout``: wrapped in
    `timeout -k 10`, so that the exit status says a run that hung (124 or 137)."""
    cmd = snakemake_command(workdir, *args, configs=configs)
    if timeout:
        cmd = ["timeout", "-k", "10", str(timeout), *cmd]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))}
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=workdir, env=env, **run_options)
    if check and result.returncode:
        raise AssertionError(f"snakemake {' '.join(args)} exited {result.returncode}:\n"
                             f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return result


def planned_jobs(result: subprocess.CompletedProcess) -> dict[str, int]:
    """Rule -> job count from a dry run's 'Job stats' table, without the total (empty: nothing to be done)."""
    text = result.stdout + result.stderr
    if "Nothing to be done" in text:
        return {}
    table = text.split("Job stats:", 1)[1]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M) if m.group(1) != "total"}


def write_config(workdir: Path, name: str, **sections) -> Path:
    """A config file ``name`` in ``workdir`` holding ``sections``."""
    path = workdir / name
    path.write_text(yaml.safe_dump(sections))
    return path


def run_stages(chunk: Path, out: Path, **sections) -> tuple[dict, dict]:
    """Every stage in-process on the chunk with these config sections, writing into ``out``; returns the packed
    samples and the failures, each by clip id."""
    import pyarrow.parquet as pq

    from fineclipper.config import load_config
    from fineclipper.paths import STAGES
    from fineclipper.shards import decode_sample, iter_raw
    from fineclipper.stages import describe, frames, landmarks, masks
    from fineclipper.stages.pack import pack_chunk

    cfg = load_config(overrides={**sections, "train": {"enabled": False}})
    paths = {s: (str(out / f"{s}.parquet"), str(out / f"{s}.failures.parquet")) for s in STAGES}
    frames.run(str(chunk), *paths["frames"], cfg["frames"], progress=False)
    landmarks.run(paths["frames"][0], *paths["landmarks"], cfg["landmarks"], progress=False)
    masks.run(paths["frames"][0], paths["landmarks"][0], *paths["masks"], cfg["masks"], progress=False)
    describe.run(str(chunk), paths["frames"][0], paths["landmarks"][0], *paths["describe"], cfg["describe"],
                 progress=False)
    pack_chunk(str(chunk), {s: p[0] for s, p in paths.items()}, {s: p[1] for s, p in paths.items()},
               str(out / "shard.tar"), str(out / "failures.parquet"))
    samples = {raw["__key__"]: decode_sample(raw) for raw in iter_raw(out / "shard.tar")}
    failures = {f["id"]: f for f in pq.read_table(out / "failures.parquet").to_pylist()}
    return samples, failures


def free_port() -> int:
    """A TCP port nothing listens on now, for a torch.distributed rendezvous of processes (an e2e test's)."""
    require_e2e("starts distributed processes")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tiny_model(variant: str = "starplus", **settings):
    """The tiny FineCLIPER (TINY, ``settings`` over it) of a variant on the demo's classes, seeded: the same
    weights every call."""
    from fineclipper.model import FineCLIPER, ModelConfig

    torch.manual_seed(0)
    return FineCLIPER(ModelConfig(**{**TINY, "variant": variant, **settings}), CLASSES)


def perturbed(model):
    """``model`` with its tunable weights moved off their initial values by the global generator (zero
    up-projections would leave the adapters out of the forward pass and their inputs without gradients)."""
    with torch.no_grad():
        for p in model.parameters():
            if p.requires_grad:
                p.add_(torch.randn_like(p) * 0.05)
    return model


def model_batch(model, clips: int = 2) -> dict:
    """A seeded batch of ``clips`` random streams at the model's input size and frame count, with
    descriptions and labels: normalised floats, as the trainer feeds the model."""
    generator = torch.Generator().manual_seed(1)
    size, frames = model.clip.visual.image_size[0], model.cfg.num_frames
    out = {s: torch.randn(clips, frames, 3, size, size, generator=generator) for s in model.cfg.streams}
    out["description"] = model.tokenize(["the jaw drops and the mouth opens", "the eyebrows rise"][:clips])
    out["label"] = torch.tensor([0, 2][:clips])
    return out


def jpeg(image: np.ndarray) -> bytes:
    """An RGB image (H, W, 3) encoded as a JPEG, as the frames stage stores it."""
    import cv2

    return cv2.imencode(".jpg", np.ascontiguousarray(image[..., ::-1]))[1].tobytes()


def png(label_map: np.ndarray) -> bytes:
    """A label map (H, W) encoded as a PNG, as the masks stage stores it."""
    import cv2

    return cv2.imencode(".png", label_map)[1].tobytes()


def unnormalise(stream: torch.Tensor) -> np.ndarray:
    """Back from the normalised float stream (T, 3, H, W) the model sees to 0..255 colours, as (T, H, W, 3)."""
    from fineclipper.train.data import to_device

    normalised = to_device({"parsing": stream[None]}, torch.device("cpu"), MEAN, STD)["parsing"][0]
    return ((normalised.permute(0, 2, 3, 1).numpy() * STD + MEAN) * 255).round()
