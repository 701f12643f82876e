"""Dataset adapters on the real DFEW / FERV39k / MAFW fold lists, and on messy lists we write."""

from collections import Counter
from pathlib import Path

import pytest

from fineclipper.datasets import AnnotationError, build_manifest, plan_chunks, sanitize_id
from fineclipper.datasets.foldlists import NO_TEST_FOLD, SPECS, read_fold_lists
from fineclipper.datasets.table import read_table_manifest


def _lines(folder: Path, pattern: str) -> list[str]:
    return [line.split()[0] for f in sorted(folder.glob(pattern))
            for line in f.read_text().splitlines() if line.strip()]


def test_dfew_folds_partition_the_clips(annotations):
    rows, stats = read_fold_lists(SPECS["dfew"], annotations, "/my/DFEW")
    assert len(rows) == 11_697 == len({r["id"] for r in rows})
    groups = Counter(r["group"] for r in rows)
    assert (groups["fold1"] == 2_341 and sum(groups.values()) == 11_697
            and set(groups) == {f"fold{k}" for k in range(1, 6)})
    fold1 = Counter(r["label"] for r in rows if r["group"] == "fold1")
    assert [fold1[i] for i in range(7)] == [489, 379, 534, 435, 294, 29, 181]
    frames = [r["num_frames"] for r in rows]
    assert min(frames) == 11 and max(frames) == 847
    first = next(r for r in rows if r["id"] == "00001")
    assert first["source"] == "/my/DFEW/DFEW_Frame_Face/00001" and first["label_name"] == "sadness"
    # fold k trains on every group but k: the train list of fold 1 is exactly the other groups
    train1 = {p.rsplit("/", 1)[1] for p in _lines(annotations, "DFEW_set_1_train.txt")}
    assert train1 == {r["id"] for r in rows if r["group"] != "fold1"}
    assert stats["no_test_fold"] == 0


def test_ferv39k_train_test(annotations):
    rows, _ = read_fold_lists(SPECS["ferv39k"], annotations, "/d/FERV39K")
    groups = Counter(r["group"] for r in rows)
    assert groups == {"train": 31_088, "test": 7_847}
    frames = [r["num_frames"] for r in rows]
    assert min(frames) == 8 and max(frames) == 47
    assert any(r["id"] == "Action_Happy_0015" for r in rows)  # basenames repeat across folders; ids do not
    assert all(r["source"].startswith("/d/FERV39K/2_ClipsforFaceCrop/") for r in rows)


def test_mafw_loses_nothing_and_counts_nothing_twice(annotations):
    rows, stats = read_fold_lists(SPECS["mafw"], annotations, "/d/MAFW")
    listed = set(_lines(annotations, "MAFW_set_*.txt"))
    assert len(rows) == len(listed) == len({r["id"] for r in rows})
    tests = Counter(p for p in _lines(annotations, "MAFW_set_*_test.txt"))
    assert sum(r["group"] != NO_TEST_FOLD for r in rows) == len(tests)
    assert stats["clips"] == len(rows) and max(r["label"] for r in rows) == 10


def _write_lists(folder: Path, lists: dict[str, list[str]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, lines in lists.items():
        (folder / name).write_text("\n".join(lines))  # last line without newline, as in the real files
    return folder


def _mafw_like(tmp_path, extra_train=(), extra_test=()):
    base = "/data/x/MAFW/data/faces"
    lists = {}
    for k in range(1, 6):
        lists[f"MAFW_set_{k}_test.txt"] = [f"{base}/{k:05d} 30 {k}"] + list(extra_test if k == 1 else ())
        lists[f"MAFW_set_{k}_train.txt"] = [f"{base}/{j:05d} 30 {j}" for j in range(1, 6) if j != k] + list(extra_train)
    return _write_lists(tmp_path / "lists", lists)


def test_messy_lists_repeat_and_no_test_fold(tmp_path):
    base = "/data/x/MAFW/data/faces"
    folder = _mafw_like(tmp_path, extra_train=[f"{base}/00099 12 8"], extra_test=[f"{base}/00001 30 1"])
    rows, stats = read_fold_lists(SPECS["mafw"], folder, tmp_path / "root")
    ids = Counter(r["id"] for r in rows)
    assert set(ids) == {"00001", "00002", "00003", "00004", "00005", "00099"} and max(ids.values()) == 1
    assert stats["repeated_lines"] == 1 and stats["no_test_fold"] == 1
    assert next(r for r in rows if r["id"] == "00099")["group"] == NO_TEST_FOLD


@pytest.mark.parametrize("line, problem", [
    ("/data/x/MAFW/data/faces/00007 30", "expected '<path> <frames> <label>'"),
    ("/data/x/MAFW/data/faces/00007 thirty 1", "must be integers"),
    ("/data/x/MAFW/data/faces/00007 30 11", "label 11 outside 0..10"),
    ("/elsewhere/00007 30 1", "does not contain the dataset folder 'MAFW'"),
])
def test_bad_annotation_line_names_file_line_and_problem(tmp_path, line, problem):
    folder = _mafw_like(tmp_path, extra_train=[line])
    with pytest.raises(AnnotationError) as err:
        read_fold_lists(SPECS["mafw"], folder, "/root")
    assert "MAFW_set_1_train.txt:5:" in str(err.value) and problem in str(err.value)


def test_conflicting_labels_and_leaks_are_errors(tmp_path):
    base = "/data/x/MAFW/data/faces"
    with pytest.raises(AnnotationError, match="has label 7 here but 2"):
        read_fold_lists(SPECS["mafw"], _mafw_like(tmp_path / "a", extra_train=[f"{base}/00002 30 7"]), "/r")
    with pytest.raises(AnnotationError, match="both a training and a test clip of fold 1"):
        read_fold_lists(SPECS["mafw"], _mafw_like(tmp_path / "b", extra_train=[f"{base}/00001 30 1"]), "/r")
    with pytest.raises(AnnotationError, match="annotation list not found"):
        read_fold_lists(SPECS["dfew"], tmp_path / "b" / "lists", "/r")


def test_table_manifest(tmp_path):
    table = tmp_path / "clips.csv"
    table.write_text("path,label,group\nvids/a.mp4,happy,train\nvids/b.mp4,1,test\n/abs/c,sad,test\n")
    rows = read_table_manifest(table, ["happy", "sad"], None, "mine")
    assert [r["label_name"] for r in rows] == ["happy", "sad", "sad"]
    assert rows[0]["source"] == str(tmp_path / "vids/a.mp4") and rows[0]["id"] == "vids_a"
    table.write_text("path,label,group\nvids/a.mp4,happy,train\nvids/b.mp4,angry,test\n")
    with pytest.raises(AnnotationError, match=r"clips.csv:3: label 'angry'"):
        read_table_manifest(table, ["happy", "sad"], None, "mine")
    table.write_text("path,label,group\nvids/a.mp4,happy,\n")
    with pytest.raises(AnnotationError, match=r"clips.csv:2: missing value for group"):
        read_table_manifest(table, ["happy", "sad"], None, "mine")
    table.write_text("path,label,group\na.mp4,happy,train\na.mp4,sad,test\n")
    with pytest.raises(AnnotationError, match="occur more than once"):
        read_table_manifest(table, ["happy", "sad"], None, "mine")


def test_build_manifest_requires_paths():
    with pytest.raises(AnnotationError, match="dataset.root must be set for format dfew"):
        build_manifest({"dataset": {"name": "dfew", "format": "dfew", "root": None, "annotations": None}})
    rows = build_manifest({"dataset": {"name": "dfew", "format": "dfew", "root": "/r", "annotations": None}})
    assert len(rows) == 11_697  # no annotations given: the lists shipped with the project


def test_chunk_plan_never_mixes_groups():
    rows = [{"id": f"v{i}", "group": "train" if i % 3 else "test"} for i in range(25)]
    chunks = plan_chunks(rows, 4)
    assert all(len({r["group"] for r in c}) == 1 and len(c) <= 4 for c in chunks.values())
    assert sorted(r["id"] for c in chunks.values() for r in c) == sorted(r["id"] for r in rows)
    assert sorted(chunks) == ["test-0000", "test-0001", "test-0002",
                              "train-0000", "train-0001", "train-0002", "train-0003"]


def test_sanitize_id():
    assert sanitize_id("Action/Happy/0015") == "Action_Happy_0015"
    assert sanitize_id("a.b c") == "a_b_c"
