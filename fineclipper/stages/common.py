"""What every stage shares: its command line (:func:`stage_main`), the per-video loop that records failures,
table IO."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa

from .. import resolve_path
from ..backends import REGISTRIES, backend_of
from ..chunks import FAILURE_SCHEMA
from ..errors import run_command
from ..io import read_table, write_table
from ..video import VideoError

log = logging.getLogger("fineclipper")


class VideoFailure(VideoError):
    """Raised by a stage's per-video step for an expected, recorded failure (no face, too few frames)."""


def stage_main(stage: str, run: Callable, inputs: Iterable[str], optional_inputs: Iterable[str] = (),
               listed_inputs: Iterable[str] = (), writes_failures: bool = True, per_chunk: bool = False) -> None:
    """The command line of a stage module, as its rule runs it (``python -m fineclipper.stages.<stage>``):
    ``--<input> PATH`` for each of ``inputs`` (``optional_inputs`` may be left out, ``listed_inputs`` take any
    number of paths), ``--output``, ``--failures`` (unless the stage writes none) and ``--config JSON`` (the
    stage's config section); ``per_chunk``: each input and output takes one path per chunk, in the same
    order. A stage with a backend (:data:`fineclipper.backends.REGISTRIES`) first moves to the backend's
    interpreter; then ``run(<input>=..., output=..., failures=..., config=...)`` runs, and an expected error
    ends it with one line naming the problem."""
    parser = argparse.ArgumentParser(description=sys.modules[run.__module__].__doc__)
    paths = {"nargs": "+"} if per_chunk else {}
    for name in inputs:
        parser.add_argument(f"--{name}", required=True, **paths)
    for name in optional_inputs:
        parser.add_argument(f"--{name}", **paths)
    for name in listed_inputs:
        parser.add_argument(f"--{name}", nargs="*", default=[])
    parser.add_argument("--output", required=True, **paths)
    if writes_failures:
        parser.add_argument("--failures", required=True, help="the stage's failures table", **paths)
    parser.add_argument("--config", default="{}", help="the stage's config section as JSON")
    args = vars(parser.parse_args())
    args["config"] = json.loads(args["config"])
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    if stage in REGISTRIES:
        run_in_backend_python(stage, args["config"])
    run_command(f"{stage} stage", lambda: run(**args))


#: Set in a stage re-run under another interpreter, so it never hands over twice.
_HANDED_OVER = "FINECLIPPER_STAGE_INTERPRETER"


def backend_python(stage: str, cfg: dict) -> str | None:
    """The interpreter a stage's backend is meant to run in, if not this one: the stage's ``python``
    setting, made absolute, else (for a backend with its own conda environment) the conda environment
    active for the job, as Snakemake activates it with ``--sdm conda``."""
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


def read_ahead(items: list, read: Callable) -> Iterator[Future]:
    """``read(item)`` for each item in turn, the next one running in a background thread while the caller
    works on the current one; yields futures, whose ``result()`` returns the read or raises its error.

    Reading (file IO, FFmpeg's and OpenCV's decoding) releases the GIL, as MediaPipe's graphs do, so a
    stage overlaps decoding clip k+1 with the face models on clip k. At most two reads are held at once."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="read-ahead") as pool:
        pending = pool.submit(read, items[0]) if items else None
        for following in [*items[1:], None]:
            current, pending = pending, None if following is None else pool.submit(read, following)
            yield current


def run_per_video(stage: str, items: list, process: Callable, key: Callable = lambda item: item["id"],
                  progress: bool = True, read: Callable | None = None) -> tuple[list[dict], list[dict]]:
    """Apply ``process`` to each item; a failing item becomes a failure row, never a crash of the chunk.

    With ``read``, each item's input is read one item ahead (:func:`read_ahead`) and ``process(item,
    input)`` gets it; a failed read fails its item as ``process`` would. Returns ``(results, failures)``.
    Expected failures (:class:`VideoError`) keep their message; unexpected exceptions are recorded with
    their type and logged with a traceback.
    """
    from tqdm import tqdm

    results, failures = [], []
    inputs = read_ahead(items, read) if read is not None else None
    for item in tqdm(items, desc=stage, unit="video", disable=not progress, file=sys.stderr):
        try:
            results.append(process(item) if inputs is None else process(item, next(inputs).result()))
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


def decode_jpegs(jpegs: list[bytes]) -> list[np.ndarray]:
    """Decode a clip's stored JPEG frames to RGB arrays; one that does not decode fails the clip."""
    import cv2

    frames = []
    for i, data in enumerate(jpegs):
        rgb = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR_RGB)  # as the loader decodes them
        if rgb is None:
            raise VideoFailure(f"stored frame {i} cannot be decoded")
        frames.append(rgb)
    return frames
