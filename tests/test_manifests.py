"""Dataset adapters on the real DFEW / FERV39k / MAFW fold lists, and on messy lists we write."""

from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fineclipper.datasets import AnnotationError, build_manifest, plan_chunks, sanitize_id
from fineclipper.datasets.foldlists import NO_TEST_FOLD, SPECS, read_fold_lists
from fineclipper.datasets.manifest import check_manifest
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
    table.write_text("path,label,group\na.mp4,happy,train\nb.mp4,sad,test\na.avi,sad,test\n")
    with pytest.raises(AnnotationError, match=r"clips.csv:4: id 'a' is also the id of line 2$"):
        read_table_manifest(table, ["happy", "sad"], None, "mine")


def test_a_spreadsheet_table_reads_as_a_plain_one(tmp_path):
    """A UTF-8 byte-order mark and CRLF line ends, as spreadsheets write them; the caption column too."""
    text = "path,label,group,caption\nvids/a.mp4,happy,train,A smile.\nvids/b.mp4,sad,test,\n"
    (tmp_path / "plain.csv").write_text(text)
    (tmp_path / "sheet.csv").write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    plain, sheet = (read_table_manifest(tmp_path / name, ["happy", "sad"], None, "mine")
                    for name in ("plain.csv", "sheet.csv"))
    assert sheet == plain and [r["caption"] for r in sheet] == ["A smile.", None]
    (tmp_path / "sheet.csv").write_bytes(b"\xef\xbb\xbfpath,label,group\r\na.mp4,happy,train\r\nb.mp4,sad,\r\n")
    with pytest.raises(AnnotationError, match=r"sheet.csv:3: missing value for group"):
        read_table_manifest(tmp_path / "sheet.csv", ["happy", "sad"], None, "mine")


def test_a_table_without_labels_or_rows_is_named(tmp_path):
    table = tmp_path / "clips.csv"
    table.write_text("path,group,note\na.mp4,train,x\n")
    with pytest.raises(AnnotationError, match=r"clips.csv: no label column \(columns: path, group, note\) while "
                                              r"dataset.classes is set; .* dataset.labelled: false"):
        read_table_manifest(table, ["happy", "sad"], None, "mine")
    for classes, labelled in ((["happy", "sad"], False), ([], True)):  # an unlabelled dataset, said or implied
        (row,) = read_table_manifest(table, classes, None, "mine", labelled)
        assert row["label"] is None and row["label_name"] is None
    table.write_text("path,label\na.mp4,happy\n")
    with pytest.raises(AnnotationError, match=r"clips.csv: no group column \(columns: path, label\)"):
        read_table_manifest(table, ["happy", "sad"], None, "mine")
    table.write_text("path,label,group\r\n")
    with pytest.raises(AnnotationError, match=r"clips.csv: the table has no rows \(columns: path, label, group\)"):
        read_table_manifest(table, ["happy", "sad"], None, "mine")
    table.write_bytes(b"")
    with pytest.raises(AnnotationError, match=r"clips.csv: the table has no rows \(the file is empty\)"):
        read_table_manifest(table, ["happy", "sad"], None, "mine")
    parquet = tmp_path / "clips.parquet"
    pq.write_table(pa.table({"path": pa.array([], pa.string()), "group": pa.array([], pa.string())}), parquet)
    with pytest.raises(AnnotationError, match=r"clips.parquet: the table has no rows \(columns: path, group\)"):
        read_table_manifest(parquet, [], None, "mine")


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
    assert sanitize_id("日本") == "日本" and sanitize_id("été 1") == "été_1"  # letters of any script kept
    assert sanitize_id("e\u0301te\u0301") == sanitize_id("\u00e9t\u00e9") == "\u00e9t\u00e9"  # NFD names (macOS) too


def test_repeated_ids_of_rows_without_lines_are_counted():
    """Fold lists' rows (one per clip, from several files) have no line of their own."""
    rows = [{"id": i, "group": "fold1"} for i in ("a", "b", "a", "b", "c")]
    with pytest.raises(AnnotationError, match=r"^lists: 2 ids occur more than once, e.g. \['a', 'b'\]$"):
        check_manifest(rows, "lists")
