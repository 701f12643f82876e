"""What every stage shares: argument parsing, the per-video loop that records failures, table IO."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pyarrow as pa

from .. import resolve_path
from ..io import read_table, write_table
from ..video import VideoError

log = logging.getLogger("fineclipper")

FAILURE_SCHEMA = pa.schema([("id", pa.string()), ("stage", pa.string()), ("reason", pa.string())])


class VideoFailure(VideoError):
    """Raised by a stage's per-video step for an expected, recorded failure (no face, too few frames)."""


def stage_args(description: str, inputs: Iterable[str], per_chunk: bool = False) -> argparse.Namespace:
    """Parse ``--<input> PATH`` for each input, ``--output``, ``--failures`` and ``--config JSON``;
    ``per_chunk``: each input and output takes one path per chunk, in the same order."""
    parser = argparse.ArgumentParser(description=description)
    paths = {"nargs": "+"} if per_chunk else {}
    for name in inputs:
        parser.add_argument(f"--{name}", required=True, **paths)
    parser.add_argument("--output", required=True, **paths)
    parser.add_argument("--failures", required=True, **paths)
    parser.add_argument("--config", default="{}", help="the stage's config section as JSON")
    args = parser.parse_args()
    args.config = json.loads(args.config)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    return args


#: Set in a stage re-run under another interpreter, so it never hands over twice.
_HANDED_OVER = "FINECLIPPER_STAGE_INTERPRETER"


def backend_python(stage: str, cfg: dict) -> str | None:
    """The interpreter a stage's backend is meant to run in, if not this one: the stage's ``python``
    setting, made absolute, else (for a backend with its own conda environment) the conda environment
    active for the job, as Snakemake activates it with ``--sdm conda``."""
    from ..backends import backend_of

    if cfg.get("python"):
        # a relative path: from the working directory, else from the repository (not through its
        # symlinks: a virtual environment's python is one)
        return os.path.abspath(resolve_path(cfg["python"]))
    conda = os.environ.get("CONDA_PREFIX")
    if conda and backend_of(stage, cfg).conda and os.path.abspath(conda) != os.path.abspath(sys.prefix):
        return os.path.join(conda, "bin", "python")
    return None


def run_in_backend_python(stage: str, cfg: dict) -> None:
    """Re-run this stage's module under :func:`backend_python`'s interpreter, when that is another one, with
    this checkout's fineclipper first on its path (that environment needs only the backend's packages)."""
    python = backend_python(stage, cfg)
    if python and os.path.abspath(python) != os.path.abspath(sys.executable) and not os.environ.get(_HANDED_OVER):
        module = sys.modules["__main__"].__spec__.name
        log.info("%s: running in %s", stage, python)
        # The workflow's own fineclipper comes first on the path, so the stage runs this code in any environment.
        path = os.pathsep.join(p for p in (str(Path(__file__).resolve().parents[2]), os.environ.get("PYTHONPATH")) if p)
        env = {**os.environ, _HANDED_OVER: python, "PYTHONPATH": path}
        os.execve(python, [python, "-m", module, *sys.argv[1:]], env)


def run_per_video(stage: str, items: list, process: Callable, key: Callable = lambda item: item["id"],
                  progress: bool = True) -> tuple[list[dict], list[dict]]:
    """Apply ``process`` to each item; a failing item becomes a failure row, never a crash of the chunk.

    Returns ``(results, failures)``. Expected failures (:class:`VideoError`) keep their message;
    unexpected exceptions are recorded with their type and logged with a traceback.
    """
    from tqdm import tqdm

    results, failures = [], []
    for item in tqdm(items, desc=stage, unit="video", disable=not progress, file=sys.stderr):
        try:
            results.append(process(item))
        except Exception as e:  # noqa: BLE001 - one bad video must not kill the chunk
            failures.append(failure_row(stage, key(item), e))
    log.info("%s: %d ok, %d failed", stage, len(results), len(failures))
    return results, failures


def failure_row(stage: str, vid: str, error: Exception) -> dict:
    """The failure row of a video ``error`` stopped: an expected failure (:class:`VideoError`) keeps its
    message; an unexpected one is recorded with its type and logged with a traceback (call it in the
    ``except`` block)."""
    if isinstance(error, VideoError):
        return {"id": vid, "stage": stage, "reason": str(error)}
    log.error("%s failed on %s:\n%s", stage, vid, traceback.format_exc())
    return {"id": vid, "stage": stage, "reason": f"{type(error).__name__}: {error}"}


def write_outputs(output: str, failures_path: str, rows: list[dict], schema: pa.Schema, failures: list[dict]) -> None:
    """Write the stage's table and its failures table (both atomically)."""
    write_table(output, pa.Table.from_pylist(rows, schema=schema))
    write_table(failures_path, pa.Table.from_pylist(failures, schema=FAILURE_SCHEMA))


def read_rows(path: str | Path) -> list[dict]:
    return read_table(path).to_pylist()


def read_chunk(path: str | Path) -> dict:
    """The chunk manifest written at parse time: ``{"chunk": id, "rows": [manifest rows]}``."""
    return json.loads(Path(path).read_text())


def decode_jpegs(jpegs: list[bytes]) -> list[np.ndarray]:
    """Decode a clip's stored JPEG frames to RGB arrays; one that does not decode fails the clip."""
    import cv2

    frames = []
    for i, data in enumerate(jpegs):
        bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        if bgr is None:
            raise VideoFailure(f"stored frame {i} cannot be decoded")
        frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    return frames
