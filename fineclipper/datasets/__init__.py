"""Dataset manifests: fold lists (DFEW, FERV39k, MAFW), generic tables and the built-in demo."""

from __future__ import annotations

import os
from pathlib import Path

from .. import paths, resolve_path
from ..shipped import shipped_path
from .captions import read_mafw_captions
from .demo import demo_manifest
from .foldlists import SPECS, read_fold_lists
from .manifest import AnnotationError, plan_chunks, sanitize_id
from .table import read_table_manifest

__all__ = ["AnnotationError", "annotations_folder", "build_manifest", "class_names", "plan_chunks",
           "sanitize_id", "plan_runs"]

#: The DFER-CLIP fold lists shipped with the project (resources/annotations/README.md says where from).
SHIPPED_ANNOTATIONS = shipped_path("resources/annotations/dfer-clip")
#: Names another folder of fold lists, over whatever a config says.
ANNOTATIONS_ENV = "FINECLIPER_ANNOTATIONS"


def annotations_folder(configured: str | None) -> Path:
    """The folder of fold lists: ``$FINECLIPER_ANNOTATIONS``, else ``dataset.annotations`` (a relative
    path from the working directory, or else from the repository), else the lists shipped with the project."""
    if os.environ.get(ANNOTATIONS_ENV):
        return Path(os.environ[ANNOTATIONS_ENV])
    return resolve_path(configured) if configured else SHIPPED_ANNOTATIONS


def class_names(dataset_cfg: dict, demo_cfg: dict) -> list[str]:
    """Class names in label order for the configured dataset."""
    fmt = dataset_cfg["format"]
    if fmt in SPECS:
        return list(SPECS[fmt].classes)
    if fmt == "demo":
        return list(demo_cfg["classes"])
    return list(dataset_cfg.get("classes") or [])


def build_manifest(config: dict) -> list[dict]:
    """One row per video of the configured dataset (see ``MANIFEST_FIELDS``); with the dataset's own
    captions (MAFW's lists named by ``dataset.captions``, a table's ``caption`` column) each row also has
    ``caption`` (None where a clip has none)."""
    ds = config["dataset"]
    fmt = ds["format"]
    if fmt == "demo":
        return demo_manifest(config["demo"], paths.demo_videos(config["results"], ds["name"]), ds["name"])
    if fmt in SPECS:
        if not ds.get("root"):
            raise AnnotationError(f"dataset.root must be set for format {fmt}: your copy of the {fmt} folder")
        rows, _ = read_fold_lists(SPECS[fmt], annotations_folder(ds.get("annotations")), ds["root"])
        if ds.get("captions"):
            if fmt != "mafw":
                raise AnnotationError(f"dataset.captions: {fmt} ships no captions (MAFW does; a table dataset has a "
                                      "caption column); use train.captions: describe for the describe stage's text")
            captions = read_mafw_captions(Path(ds["root"]) / ds["captions"])
            rows = [{**row, "caption": captions.get(row["id"])} for row in rows]
        return rows
    if fmt == "table":
        if not ds.get("annotations"):
            raise AnnotationError("dataset.annotations must name the CSV/Parquet table for format 'table'")
        return read_table_manifest(ds["annotations"], ds.get("classes") or [], ds.get("root"), ds["name"],
                                   ds.get("labelled", True))
    raise AnnotationError(f"unknown dataset.format {fmt!r}")


def plan_runs(groups: list[str], test_groups: list[str] | None,
              where: str = "dataset.test_groups") -> dict[str, list[str]]:
    """Training runs and the group each one tests: run name -> [test group].

    ``test_groups`` (the config's ``dataset.test_groups``) names them; by default every ``foldN`` group
    is a run (DFEW, MAFW: fold k tests on group k, trains on the others), else the ``test`` group.
    Raises a clear error when no group can be tested.
    """
    if test_groups:
        unknown = sorted(set(test_groups) - set(groups))
        if unknown:
            raise AnnotationError(f"{where}: {unknown} are not groups of this dataset (its groups: {groups})")
        return {g: [g] for g in test_groups}
    folds = [g for g in groups if g.startswith("fold") and g[4:].isdigit()]
    if folds:
        return {g: [g] for g in folds}
    if "test" in groups:
        return {"test": ["test"]}
    raise AnnotationError(f"no group to test: the groups are {groups}, none is 'test' or 'foldN'; set "
                          f"{where} to the group(s) to test (or train.enabled: false to only build shards)")
