"""Dataset manifests: fold lists (DFEW, FERV39k, MAFW), generic tables and the built-in demo."""

from __future__ import annotations

from pathlib import Path

from .demo import demo_manifest
from .foldlists import SPECS, read_fold_lists
from .manifest import AnnotationError, plan_chunks, sanitize_id
from .table import read_table_manifest

__all__ = ["AnnotationError", "build_manifest", "class_names", "plan_chunks", "sanitize_id"]


def class_names(dataset_cfg: dict, demo_cfg: dict) -> list[str]:
    """Class names in label order for the configured dataset."""
    fmt = dataset_cfg["format"]
    if fmt in SPECS:
        return list(SPECS[fmt].classes)
    if fmt == "demo":
        return list(demo_cfg["classes"])
    return list(dataset_cfg.get("classes") or [])


def build_manifest(config: dict) -> list[dict]:
    """One row per video of the configured dataset (see ``MANIFEST_FIELDS``)."""
    ds = config["dataset"]
    fmt = ds["format"]
    if fmt == "demo":
        return demo_manifest(config["demo"], Path(config["results"]) / ds["name"] / "videos", ds["name"])
    if fmt in SPECS:
        for key in ("annotations", "root"):
            if not ds.get(key):
                raise AnnotationError(f"dataset.{key} must be set for format {fmt}")
        rows, _ = read_fold_lists(SPECS[fmt], ds["annotations"], ds["root"])
        return rows
    if fmt == "table":
        if not ds.get("annotations"):
            raise AnnotationError("dataset.annotations must name the CSV/Parquet table for format 'table'")
        return read_table_manifest(ds["annotations"], ds.get("classes") or [], ds.get("root"), ds["name"])
    raise AnnotationError(f"unknown dataset.format {fmt!r}")
