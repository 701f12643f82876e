"""Caption pre-training and its captions: MAFW's caption lists, a table's caption column, the duplicate-aware
InfoNCE and its gathered form under DDP."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest
import torch
import yaml
from helpers import ONE_THREAD, free_port, planned_jobs, snakemake

from fineclipper import REPO_ROOT
from fineclipper.datasets import AnnotationError, build_manifest
from fineclipper.datasets.captions import MAFW_CAPTION_LISTS, parse_caption_list, read_mafw_captions
from fineclipper.model.fineclipper import info_nce, same_text

#: A MAFW caption list as MAFW ships it: GBK, tabs, CRLF, a Chinese caption before the English one.
MAFW_LINES = [
    "00025.mp4\tanger\t他很生气，皱着眉头。\tThe man lowers his brows and presses his lips together.",
    "00028.mp4\tanger_disgust\t她皱起鼻子。\tShe wrinkles her nose and lowers her brows.",  # compound labels
    "00108.mp4\tsadness\t\t-",  # listed without a caption
    "00200.mp4\thappiness",  # no caption field at all
]


def write_list(path, lines, encoding="gbk"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def test_mafw_caption_list_gbk_tabs_compound_labels(tmp_path):
    path = write_list(tmp_path / "set_1" / "train.txt", MAFW_LINES)
    entries = parse_caption_list(path)
    assert [(n, clip, labels) for n, clip, labels, _ in entries] == [
        (1, "00025", ["anger"]), (2, "00028", ["anger", "disgust"]), (3, "00108", ["sadness"]),
        (4, "00200", ["happiness"])]
    assert [caption for *_, caption in entries] == [
        "The man lowers his brows and presses his lips together.", "She wrinkles her nose and lowers her brows.",
        None, None]


@pytest.mark.parametrize("line, problem", [
    ("00300.mp4", r"train.txt:2: expected tab-separated .* got 1 field"),
    ("00300.mp4\tjoyful\t\tA smile.", r"train.txt:2: label\(s\) \['joyful'\] of 00300.mp4 are not MAFW's classes"),
    ("\tanger\t\tA face.", r"train.txt:2: expected tab-separated"),
])
def test_a_bad_caption_line_names_file_line_and_problem(tmp_path, line, problem):
    path = write_list(tmp_path / "train.txt", [MAFW_LINES[0], line])
    with pytest.raises(AnnotationError, match=problem):
        parse_caption_list(path)


def test_bytes_that_are_not_text_name_the_line(tmp_path):
    path = tmp_path / "train.txt"
    path.write_bytes(b"00025.mp4\tanger\t\tok\r\n" + b"00028.mp4\tanger\t\t\xff\xfe\x80\r\n")
    with pytest.raises(AnnotationError, match=r"train.txt:2: neither GBK nor UTF-8 text"):
        parse_caption_list(path)


def test_mafw_captions_join_the_manifest(tmp_path, annotations):
    """dataset.captions below the root: every listed clip gets its caption or None; the first list read
    wins for a clip listed twice."""
    folder = tmp_path / "MAFW" / "Train_Test_Set"
    write_list(folder / MAFW_CAPTION_LISTS[0], MAFW_LINES[:3])
    write_list(folder / MAFW_CAPTION_LISTS[1], ["00025.mp4\tanger\t\tAnother caption.", "00108.mp4\tsadness\t\tLate."])
    assert read_mafw_captions(folder)["00025"] == "The man lowers his brows and presses his lips together."
    assert read_mafw_captions(folder)["00108"] == "Late."  # no caption in the first list: a later one fills it
    config = {"dataset": {"format": "mafw", "root": str(tmp_path / "MAFW"), "annotations": str(annotations),
                          "captions": "Train_Test_Set", "name": "mafw"}}
    rows = {r["id"]: r for r in build_manifest(config)}
    assert len(rows) == 9172 and rows["00028"]["caption"] == "She wrinkles her nose and lowers her brows."
    assert sum(r["caption"] is not None for r in rows.values()) == 3
    with pytest.raises(AnnotationError, match="no MAFW caption list found"):
        build_manifest({**config, "dataset": {**config["dataset"], "captions": "elsewhere"}})


def test_a_table_caption_column(tmp_path):
    (tmp_path / "t.csv").write_text("path,label,group,caption\na.mp4,x,train,A face.\nb.mp4,y,test,\n")
    rows = build_manifest({"dataset": {"format": "table", "annotations": str(tmp_path / "t.csv"), "name": "t",
                                       "classes": ["x", "y"], "labelled": True}, "results": str(tmp_path)})
    assert [r["caption"] for r in rows] == ["A face.", None]


def test_info_nce_by_hand_and_repeated_captions_are_not_negatives():
    """2x2 by hand; then a batch whose second and third captions are one text: leaving the pair out of the
    softmaxes equals the loss of a batch where the duplicate is not there, for the rows that remain."""
    a = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    b = torch.tensor([[0.6, 0.8], [0.0, 1.0]])
    scale = torch.tensor(2.0)
    # rows: softmax over [1.2, 0] for row 0 (target 0) and [1.6, 2] for row 1 (target 1); columns likewise
    rows = -(math.log(math.exp(1.2) / (math.exp(1.2) + 1)) + math.log(math.exp(2) / (math.exp(1.6) + math.exp(2))))
    cols = -(math.log(math.exp(1.2) / (math.exp(1.2) + math.exp(1.6))) + math.log(math.exp(2) / (1 + math.exp(2))))
    assert float(info_nce(a, b, scale)) == pytest.approx((rows + cols) / 4)

    tokens = torch.tensor([[1, 5, 2], [1, 7, 2], [1, 7, 2]])
    assert same_text(tokens).tolist() == [[True, False, False], [False, True, True], [False, True, True]]
    video = torch.nn.functional.normalize(torch.randn(3, 4, generator=torch.Generator().manual_seed(0)), dim=-1)
    text = torch.nn.functional.normalize(torch.randn(3, 4, generator=torch.Generator().manual_seed(1)), dim=-1)
    masked = info_nce(video, text, scale, same_text(tokens))
    assert masked < info_nce(video, text, scale)  # the duplicate no longer pushes its twin away
    logits = scale * video @ text.T
    expected = 0.0
    for i, keep in enumerate([[0, 1, 2], [0, 1], [0, 2]]):  # row i sees its own pair and the other texts only
        expected += -torch.log_softmax(logits[i, keep], 0)[keep.index(i)] / 6
        expected += -torch.log_softmax(logits[keep, i], 0)[keep.index(i)] / 6
    assert float(masked) == pytest.approx(float(expected), rel=1e-6)


DDP_SCRIPT = """
import os, sys, torch
from fineclipper.train.distributed import barrier, cleanup, gather_batch, setup_distributed
from fineclipper.model.fineclipper import info_nce, same_text
rank, world, _ = setup_distributed()
video, text, tokens = torch.load(sys.argv[1], weights_only=True)
n = len(video) // world
mine = slice(rank * n, (rank + 1) * n)
local_video = video[mine].clone().requires_grad_(True)
v, t, k = gather_batch(local_video, world), gather_batch(text[mine], world), gather_batch(tokens[mine], world)
loss = info_nce(v, t, torch.tensor(10.0), same_text(k))
(loss * world).backward()
torch.save({"loss": loss.detach(), "grad": local_video.grad}, f"{sys.argv[2]}.{rank}")
barrier(world)
cleanup()
"""


@pytest.mark.e2e
def test_gathered_info_nce_on_two_processes_equals_one_process_with_the_whole_batch(tmp_path):
    """Two gloo processes, each with half the batch (a caption repeated across the halves): the same loss
    as one process with the whole batch, and each rank's gradient (x world, as the trainer scales it) is
    the whole batch's gradient of its own rows."""
    generator = torch.Generator().manual_seed(0)
    video = torch.nn.functional.normalize(torch.randn(8, 16, generator=generator), dim=-1)
    text = torch.nn.functional.normalize(torch.randn(8, 16, generator=generator), dim=-1)
    tokens = torch.randint(3, 50, (8, 6), generator=generator)
    tokens[6] = tokens[1]  # the same caption on rank 0 (row 1) and rank 1 (row 6)
    torch.save((video, text, tokens), tmp_path / "batch.pt")
    (tmp_path / "ddp.py").write_text(DDP_SCRIPT)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", str(free_port()),
           str(tmp_path / "ddp.py"), str(tmp_path / "batch.pt"), str(tmp_path / "out")]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=ONE_THREAD)
    assert result.returncode == 0, result.stderr[-3000:]
    whole = video.clone().requires_grad_(True)
    loss = info_nce(whole, text, torch.tensor(10.0), same_text(tokens))
    loss.backward()
    for rank in (0, 1):
        out = torch.load(tmp_path / f"out.{rank}", weights_only=True)
        assert float(out["loss"]) == pytest.approx(float(loss), rel=1e-6)
        assert torch.allclose(out["grad"] / 2, whole.grad[rank * 4:(rank + 1) * 4], atol=1e-6)  # DDP's average
    assert float(loss) != pytest.approx(float(info_nce(video, text, torch.tensor(10.0))))  # the repeat mattered


def test_zero_shot_needs_a_caption_pretrained_model_and_transfer_a_supervised_one():
    from fineclipper.config import load_config

    with pytest.raises(ValueError, match="train.zero_shot: zero-shot evaluation is for a caption-pre-trained model"):
        load_config(overrides={"train": {"zero_shot": ["mafw"]}})
    with pytest.raises(ValueError, match="train.cross_dataset: a caption-pre-trained model read no label"):
        load_config(overrides={"train": {"objective": "captions", "cross_dataset": ["mafw"]}})


@pytest.mark.slow
@pytest.mark.e2e
def test_demo_caption_pretraining_is_scored_zero_shot_on_every_listed_test_clip(own_demo_run):
    """A caption pre-training experiment beside the demo's supervised one (on a copy of the demo run): it
    trains without labels on the describe stage's text, its evaluation is zero-shot on every listed test
    clip, and the report sets it beside Table 3, not beside Table 1."""
    run = own_demo_run
    cfg = yaml.safe_load((run / "cfg.yaml").read_text())
    cfg["experiments"] = [{"name": "main"}, {"name": "zs", "variant": "plus",
                                             "train": {"objective": "captions", "captions": "describe"}}]
    (run / "zs.yaml").write_text(yaml.safe_dump(cfg))
    jobs = planned_jobs(snakemake(run, "--cores", "2", "all", "-n", configs=("zs.yaml",)))
    assert jobs["train"] == 1 and jobs["evaluate"] == 1 and "frames" not in jobs  # the new experiment alone
    snakemake(run, "--cores", "2", "all", configs=("zs.yaml",))
    experiment = run / "results/demo/experiments/zs/seed0"
    metrics = json.loads((experiment / "eval/test/metrics.json").read_text())
    assert metrics["protocol"] == "zero-shot" and metrics["captions"] == "describe"
    assert metrics["listed"] == metrics["evaluated"] == 4 and sum(metrics["support"].values()) == 4
    summary = json.loads((experiment / "train/test/train_summary.json").read_text())
    assert summary["objective"] == "captions" and "val_info_nce" in summary["best_validation"]
    records = [json.loads(line) for line in (experiment / "train/test/metrics.jsonl").read_text().splitlines()]
    assert all("info_nce" in r and "ce" not in r for r in records)  # no label was read
    report = json.loads((run / "results/demo/report/summary.json").read_text())
    assert set(report["experiments"]) == {"main"}  # Table 1 beside the paper: the supervised experiment only
    assert report["zero_shot"]["zs"]["on"]["demo"]["listed"] == 4
    page = (run / "results/demo/report/report.html").read_text()
    table3 = page.split("Zero-shot (the paper's Table 3)", 1)[1].split("Cross-dataset transfer", 1)[0]
    assert "<b>zs</b> (ours)" in table3 and "demo (fine-grained caption)" in table3 and "EmoCLIP" in table3
    print(f"demo, describe captions, tiny random CLIP, 2 epochs: zero-shot UAR {metrics['uar']:.3f} "
          f"WAR {metrics['war']:.3f} on {metrics['listed']} clips")


def test_an_unlabelled_table_dataset_is_pretrained_on_and_scored_elsewhere(tmp_path):
    """A table without labels, with captions: caption pre-training on every group (one run, `all`), no
    evaluation of its own; a supervised experiment on it is refused."""
    from fineclipper.config import load_config
    from fineclipper.errors import ConfigError
    from fineclipper.workflow import plan_workflow

    (tmp_path / "t.csv").write_text("path,group,caption\na.mp4,s1,A face.\nb.mp4,s2,Another face.\n")
    config = {"dataset": {"name": "t", "format": "table", "annotations": str(tmp_path / "t.csv")},
              "results": str(tmp_path / "results"),
              "experiments": [{"name": "zs", "train": {"objective": "captions", "captions": "dataset"}}]}
    plan = plan_workflow(load_config(overrides=config))
    assert plan.primary.runs == {"all": []} and plan.primary.captions == {"s1-0000": {"a": "A face."},
                                                                          "s2-0000": {"b": "Another face."}}
    with pytest.raises(ConfigError, match="dataset t has no labels"):
        plan_workflow(load_config(overrides={**config, "experiments": [{"name": "supervised"}]}))


def test_the_report_of_a_dataset_only_pretrained_on_sets_it_beside_table3(tmp_path):
    """An unlabelled dataset has no metrics of its own: its experiment's pre-training (dataset, caption
    source) comes from the training summary, its figures from the other datasets it is scored on."""
    from fineclipper.train.report import aggregate
    from fineclipper.train.report_html import table3_section

    run = tmp_path / "results/t/experiments/zs/seed0"
    figures = {"uar": 0.5, "war": 0.6, "uar_evaluated": 0.5, "war_evaluated": 0.6, "listed": 10, "evaluated": 10,
               "model": {"clip_model": "FC-Tiny", "variant": "base"}}
    (run / "eval/all/zero_shot_dfew").mkdir(parents=True)
    (run / "eval/all/zero_shot_dfew/metrics.json").write_text(json.dumps(figures))
    (run / "train/all").mkdir(parents=True)
    (run / "train/all/train_summary.json").write_text(json.dumps(
        {"objective": "captions", "captions": "dataset", "parameters": {"total_tunable": 1000}}))
    (tmp_path / "pre.json").write_text("{}")
    summary = aggregate("t", [], [], [str(run / "eval/all/zero_shot_dfew/metrics.json")], str(tmp_path / "pre.json"),
                        str(REPO_ROOT / "resources/paper_results.yaml"), [str(run / "train/all/train_summary.json")])
    assert summary["zero_shot"]["zs"]["dataset"] == "t" and summary["zero_shot"]["zs"]["on"]["dfew"]["listed"] == 10
    section = table3_section(summary)
    assert "<b>zs</b> (ours)" in section and "t (video caption)" in section and "FC-Tiny" in section


def test_caption_pretraining_refuses_label_context_it_cannot_train():
    from fineclipper.config import load_config

    with pytest.raises(ValueError, match="train.model.n_ctx: 4 learnable context tokens .* set it to 0"):
        load_config(overrides={"train": {"objective": "captions", "model": {"n_ctx": 4}}})
