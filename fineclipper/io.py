"""Atomic writes: every artifact is written under a temporary name and renamed on success."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` only if the block succeeds.

    Temporaries a killed writer of the same path left behind are removed first; a write that fails (a
    full disk, a file-size limit) raises an error naming the file and leaves nothing behind.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(f".{path.name}.tmp-*"):
        stale.unlink(missing_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as e:
        raise OSError(e.errno, f"writing {path}: {e.strerror or e}") from e
    finally:
        if tmp.exists():
            tmp.unlink()


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_json(path: str | os.PathLike, obj) -> None:
    write_bytes(path, (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode())


def write_json_if_changed(path: str | os.PathLike, obj) -> bool:
    """Write ``obj`` as JSON unless the file already holds exactly that; return whether it wrote.

    Leaving an unchanged file untouched keeps its mtime, so Snakemake sees nothing new.
    """
    data = (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode()
    path = Path(path)
    if path.exists() and path.read_bytes() == data:
        return False
    write_bytes(path, data)
    return True


def write_table(path: str | os.PathLike, table: pa.Table) -> None:
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)


def read_table(path: str | os.PathLike) -> pa.Table:
    return pq.read_table(path)


def npy_bytes(array: np.ndarray) -> bytes:
    """Serialise an array as .npy bytes (never pickled)."""
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


def npy_load(data: bytes) -> np.ndarray:
    return np.load(io.BytesIO(data), allow_pickle=False)


def encode_image(ext: str, image: np.ndarray, params: tuple = ()) -> bytes:
    """Encode an image with OpenCV (``ext`` like ``".png"``; BGR order for colour images)."""
    import cv2

    ok, data = cv2.imencode(ext, image, list(params))
    if not ok:
        raise RuntimeError(f"{ext} encoding failed for an image of shape {image.shape}")
    return data.tobytes()
