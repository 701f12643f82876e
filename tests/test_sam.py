"""The SAM parser on a tiny random SAM built from segment_anything's own modules: architectures, checkpoint
errors, prompts and fallbacks on a real face, the fast path held to the reference (segment-anything's own
attention, resize and one-frame decoding), and the masks stage end to end through Snakemake."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
import torch
import yaml
from helpers import planned_jobs, snakemake

from fineclipper.config import load_config
from fineclipper.masks.labels import LABEL_INDEX, LABELS
from fineclipper.masks.landmarks import LandmarkParser
from fineclipper.masks.sam import PARTS, SamParser, build_sam, load_sam, part_prompts, sam_architecture


def tiny_checkpoint(path: Path, iou: float, seed: int = 0) -> Path:
    """A SAM-Tiny state dict whose IoU head predicts ``iou`` for every mask (a confident or an unsure SAM), with
    random relative-position tables (segment-anything starts them at zero, which would hide that bias)."""
    torch.manual_seed(seed)
    sam = build_sam(sam_architecture("SAM-Tiny"))
    for name, parameter in sam.named_parameters():
        if "rel_pos" in name:
            torch.nn.init.normal_(parameter, std=0.5)
    head = sam.mask_decoder.iou_prediction_head.layers[-1]
    torch.nn.init.zeros_(head.weight)
    torch.nn.init.constant_(head.bias, iou)
    torch.save(sam.state_dict(), path)
    return path


def masks_config(checkpoint, **extra) -> dict:
    masks = {"parser": "sam", "checkpoint": str(checkpoint), "model_type": "SAM-Tiny", **extra}
    return load_config(overrides={"masks": masks, "train": {"enabled": False}})["masks"]


@pytest.fixture(scope="module")
def face_clip(astronaut_face):
    from fineclipper.face.mesh import face_mesh_clip

    frames = [np.roll(astronaut_face, s, axis=1) for s in (0, 3, 6)]
    points, detected = face_mesh_clip(frames)
    assert detected.all()
    return frames, points


@pytest.mark.parametrize("name", ["vit_b", "vit_l", "vit_h"])
def test_released_architectures_are_segment_anythings(name):
    """Ours holds every tensor of segment_anything's own build, by name and shape, so its released checkpoint
    loads (built on the meta device: nothing is allocated)."""
    from segment_anything import sam_model_registry

    with torch.device("meta"):
        ours, theirs = (model.state_dict() for model in (build_sam(sam_architecture(name)), sam_model_registry[name]()))
    assert {k: v.shape for k, v in ours.items()} == {k: v.shape for k, v in theirs.items()}


def test_broken_checkpoints_are_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="masks.checkpoint: no such file"):
        load_sam(str(tmp_path / "sam.pt"), "SAM-Tiny")
    (tmp_path / "garbage.pt").write_bytes(b"not a checkpoint at all")
    with pytest.raises(ValueError, match="garbage.pt is not a readable PyTorch state dict"):
        load_sam(str(tmp_path / "garbage.pt"), "SAM-Tiny")
    torch.save(build_sam({**sam_architecture("SAM-Tiny"), "encoder_depth": 1}).state_dict(), tmp_path / "other.pt")
    with pytest.raises(ValueError, match="other.pt does not fit a SAM SAM-Tiny"):
        load_sam(str(tmp_path / "other.pt"), "SAM-Tiny")
    with pytest.raises(ValueError, match="masks.checkpoint must name"):
        load_sam(None, "vit_b")
    with pytest.raises(ValueError, match="masks.model_type: 'vit_x'"):
        sam_architecture("vit_x")


def test_confident_sam_paints_every_part_and_the_hair(face_clip, tmp_path):
    frames, points = face_clip
    parser = SamParser(masks_config(tiny_checkpoint(tmp_path / "sam.pt", iou=0.9)))
    maps, info = parser.parse(frames, points, (224, 224))
    assert info == {"parts_from_sam": 3 * len(PARTS), "parts_from_polygons": 0, "parts_left_out": 0,
                    "frames_without_landmarks": 0}
    polygons = LandmarkParser()(points[0], (224, 224))
    assert maps[0].dtype == np.uint8 and maps[0].max() < len(LABELS)
    assert (maps[0] != polygons).mean() > 0.05  # SAM's masks, not the polygons
    assert (maps[0] == LABEL_INDEX["hair"]).any() and not (polygons == LABEL_INDEX["hair"]).any()


def test_unsure_sam_falls_back_to_the_polygons(face_clip, tmp_path):
    frames, points = face_clip
    parser = SamParser(masks_config(tiny_checkpoint(tmp_path / "sam.pt", iou=0.2), iou_threshold=0.7))
    nan = np.full_like(points[:1], np.nan)
    maps, info = parser.parse(frames + frames[:1], np.concatenate([points, nan]), (224, 224))
    assert info == {"parts_from_sam": 0, "parts_from_polygons": 3 * (len(PARTS) - 1), "parts_left_out": 3,
                    "frames_without_landmarks": 1}
    assert all(np.array_equal(m, LandmarkParser()(p, (224, 224))) for m, p in zip(maps, points))
    assert maps[3].max() == 0  # no landmarks: an empty map


def test_a_failing_frame_is_a_failure_row_and_a_broken_checkpoint_stops_first(face_clip, tmp_path):
    from fineclipper.io import npy_bytes, read_table, write_table
    from fineclipper.stages import masks
    from fineclipper.stages.frames import SCHEMA as FRAMES
    from fineclipper.stages.frames import encode_jpeg
    from fineclipper.stages.landmarks import SCHEMA as LANDMARKS

    frames, points = face_clip
    jpegs = [encode_jpeg(f, 90) for f in frames]
    rows = [{"id": "good", "jpegs": jpegs}, {"id": "broken", "jpegs": [jpegs[0], b"\xff\xd8 cut", jpegs[2]]}]
    write_table(tmp_path / "frames.parquet",
                pa.Table.from_pylist(rows, schema=pa.schema([FRAMES.field("id"), FRAMES.field("jpegs")])))
    write_table(tmp_path / "landmarks.parquet", pa.Table.from_pylist(
        [{"id": r["id"], "landmarks": npy_bytes(points.astype(np.float16)), "detected": [True] * 3} for r in rows],
        schema=pa.schema([LANDMARKS.field(k) for k in ("id", "landmarks", "detected")])))
    out = [str(tmp_path / "masks.parquet"), str(tmp_path / "masks.failures.parquet")]
    masks.run(str(tmp_path / "frames.parquet"), str(tmp_path / "landmarks.parquet"), *out,
              masks_config(tiny_checkpoint(tmp_path / "sam.pt", iou=0.9)), progress=False)
    assert [r["id"] for r in read_table(out[0]).to_pylist()] == ["good"]
    (failure,) = read_table(out[1]).to_pylist()
    assert failure["id"] == "broken" and "stored frame 1 cannot be decoded" in failure["reason"]
    (tmp_path / "masks.parquet").unlink()
    (tmp_path / "bad.pt").write_bytes(b"broken")
    with pytest.raises(ValueError, match="bad.pt is not a readable PyTorch state dict"):
        masks.run(str(tmp_path / "frames.parquet"), str(tmp_path / "landmarks.parquet"), *out,
                  masks_config(tmp_path / "bad.pt"), progress=False)
    assert not (tmp_path / "masks.parquet").exists()  # stopped before any video


@pytest.mark.parametrize("window", [0, 4])
def test_sdpa_attention_is_segment_anythings_attention(window):
    """SdpaAttention gives what segment-anything's Attention gives (fp32), in global and in window attention
    (the encoder's blocks call the same module on the grid or on its windows), relative-position bias included."""
    from segment_anything.modeling.image_encoder import Block

    from fineclipper.masks.sam_fast import SdpaAttention, use_sdpa_attention

    torch.manual_seed(0)
    block = Block(dim=32, num_heads=4, use_rel_pos=True, window_size=window, input_size=(10, 10))
    for table in (block.attn.rel_pos_h, block.attn.rel_pos_w):
        torch.nn.init.normal_(table, std=0.5)
    x = torch.randn(2, 10, 10, 32)
    with torch.no_grad():
        expected = block(x)
        use_sdpa_attention(block)
        assert type(block.attn) is SdpaAttention
        torch.testing.assert_close(block(x), expected, rtol=1e-5, atol=1e-5)


def test_device_resize_is_sams_resize_within_a_grey_level():
    """The fast path's resize, normalisation and padding on the device against segment-anything's own (PIL
    resize to uint8 on the host, then Sam.preprocess): at most one grey level apart, most pixels equal."""
    from fineclipper.masks.sam_fast import encoder_input

    sam = build_sam(sam_architecture("vit_b"))
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (120, 160, 3), dtype=np.uint8) for _ in range(2)]  # not square: padded
    expected = sam.preprocess(torch.stack([SamParser.input_image(f, 1024) for f in frames]))
    ours = encoder_input(torch.from_numpy(np.stack(frames)), sam.pixel_mean, sam.pixel_std, 1024)
    grey_levels = ((ours - expected) * sam.pixel_std).abs()
    assert ours.shape == expected.shape == (2, 3, 1024, 1024)
    assert grey_levels.max() <= 1 + 1e-3 and (grey_levels < 1e-3).float().mean() > 0.85
    assert (ours[..., 768:, :] == 0).all() and (expected[..., 768:, :] == 0).all()


def test_batched_decoding_is_one_frame_at_a_time_decoding(face_clip, tmp_path):
    """From the same image embeddings, the fast path's decoding (every prompt of every frame in one call, labels
    painted on the device) gives the reference's masks (one frame per call, painted on the host), fp32."""
    frames, points = face_clip
    reference = SamParser(masks_config(tiny_checkpoint(tmp_path / "sam.pt", iou=0.9), fast=False))
    fast = SamParser(masks_config(tmp_path / "sam.pt")).fast
    embeddings = reference.embed(frames)
    expected = reference.reference_label_maps(frames, points, (224, 224))
    masks, from_sam = fast.decode(embeddings, points, (224, 224))
    polygons = torch.zeros_like(masks)  # every part is SAM's here
    assert from_sam.all() and np.array_equal(from_sam.numpy(), expected[1])
    assert (fast.paint(masks, from_sam, polygons).numpy() == expected[0]).mean() > 0.9999
    for f, frame_points in enumerate(points):
        one_frame = reference.decode(embeddings[f], part_prompts(frame_points, (224, 224)), (224, 224))
        for p, name in enumerate(PARTS):
            assert (masks[f, p].numpy() == one_frame[name][0]).mean() > 0.9999


@pytest.mark.parametrize("iou", [0.9, 0.2])
def test_fast_path_agrees_with_the_reference(face_clip, tmp_path, iou):
    """The whole fast parse (device resize, SDPA, batched decoding, device painting; batches of 2 over 4 frames,
    one without landmarks) against the reference: the same counts, >= 99% of pixels the same label (SAM-Tiny,
    fp32; the resize's grey-level differences are the rest); with an unsure SAM, the same polygons exactly."""
    frames, points = face_clip
    nan = np.full_like(points[:1], np.nan)
    frames, points = frames + frames[:1], np.concatenate([points, nan])
    checkpoint = tiny_checkpoint(tmp_path / "sam.pt", iou=iou)
    expected, expected_info = SamParser(masks_config(checkpoint, fast=False)).parse(frames, points, (224, 224))
    maps, info = SamParser(masks_config(checkpoint, batch_size=2)).parse(frames, points, (224, 224))
    assert info == expected_info and info["frames_without_landmarks"] == 1
    agreement = np.mean([(a == b).mean() for a, b in zip(maps, expected)])
    assert agreement == 1.0 if iou < 0.7 else agreement >= 0.99
    assert maps[3].max() == 0


@pytest.mark.slow
def test_compiled_encoder_is_the_eager_encoder(face_clip, tmp_path):
    """masks.compile: the encoder compiled at a fixed batch shape (3 frames in batches of 2: the last one
    padded) gives the eager encoder's embeddings and the same label maps (CPU inductor, fp32)."""
    frames, points = face_clip
    torch._dynamo.reset()
    checkpoint = tiny_checkpoint(tmp_path / "sam.pt", iou=0.9)
    eager = SamParser(masks_config(checkpoint, batch_size=2, compile=False))
    compiled = SamParser(masks_config(checkpoint, batch_size=2, compile=True))
    assert compiled.fast.fixed_batch and not eager.fast.fixed_batch
    for batch in (frames[:2], frames[2:]):
        torch.testing.assert_close(compiled.fast.embed(batch), eager.fast.embed(batch), rtol=1e-4, atol=1e-4)
    (maps, info), (expected, expected_info) = (p.parse(frames, points, (224, 224)) for p in (compiled, eager))
    assert info == expected_info
    assert np.mean([(a == b).mean() for a, b in zip(maps, expected)]) > 0.999
    assert torch._dynamo.utils.counters["stats"]["unique_graphs"] > 0  # compiled, not a silent fall back to eager


@pytest.mark.e2e
def test_demo_shards_carry_sam_masks(tmp_path):
    """Landmark polygons first; switching to SAM reruns masks and pack only, as GPU jobs, and the shards'
    maps then come from SAM (hair, which polygons never paint) with the counts in each sample's metadata."""
    from fineclipper.shards import decode_sample, iter_raw

    config = {"demo": {"classes": ["neutral", "happiness"], "clips_per_class": 2, "test_per_class": 1, "frames": 8,
                       "size": 160}, "chunk_size": 2, "frames": {"max_frames": 8}, "train": {"enabled": False}}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    snakemake(tmp_path, "--cores", "2", "all")
    config["masks"] = {"parser": "sam", "checkpoint": str(tiny_checkpoint(tmp_path / "sam.pt", iou=0.9)),
                       "model_type": "SAM-Tiny"}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    planned = snakemake(tmp_path, "--cores", "2", "all", "-n")
    assert planned_jobs(planned) == {"masks": 2, "pack": 2, "summary": 1, "all": 1}
    assert re.search(r"rule masks:.*?resources:[^\n]*gpu=1", planned.stdout + planned.stderr, re.S)
    snakemake(tmp_path, "--cores", "2", "all")
    for shard in sorted((tmp_path / "shards/demo").glob("*.tar")):
        for raw in iter_raw(shard):
            sample = decode_sample(raw)
            values = np.unique(np.concatenate([m.ravel() for m in sample["masks"]]))
            assert values.max() < len(LABELS) and LABEL_INDEX["hair"] in values
            info = sample["meta"]["mask_info"]
            assert info["parts_from_sam"] == len(PARTS) * len(sample["masks"]) and info["parts_from_polygons"] == 0
    assert planned_jobs(snakemake(tmp_path, "--cores", "2", "all", "-n")) == {}
    json.loads((tmp_path / "results/demo/summary.json").read_text())
