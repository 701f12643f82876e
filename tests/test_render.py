"""The parsing and landmarks streams as the encoders see them: over the face frame (the paper's Fig. 2, the
default) or on a black canvas, in the loader, the contact sheet and through a checkpoint."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import TINY, jpeg, png, unnormalise

from fineclipper.masks.labels import PALETTE
from fineclipper.model import FineCLIPER, ModelConfig
from fineclipper.model.render import PARSING_ALPHA, render_landmarks, render_parsing, render_streams
from fineclipper.shards import make_sample
from fineclipper.train.data import ClipTransform


@pytest.fixture(scope="module")
def face(astronaut_face):
    """The astronaut's face crop, its landmark-polygon parsing map and its Face Mesh landmarks in pixels."""
    from fineclipper.face.mesh import face_mesh_clip
    from fineclipper.masks import get_parser

    landmarks = face_mesh_clip([astronaut_face])[0][0]
    label_map = get_parser("landmarks", {})(landmarks, astronaut_face.shape[:2])
    return astronaut_face, label_map, landmarks[:, :2] * astronaut_face.shape[1::-1]


def test_overlay_keeps_the_face_where_nothing_is_drawn(face):
    frame, label_map, points = face
    parts = label_map != 0
    assert 0.2 < parts.mean() < 0.9  # the map has parts and background
    parsing = render_parsing(label_map, frame)
    assert np.array_equal(parsing[~parts], frame[~parts])
    expected = np.round((1 - PARSING_ALPHA) * frame + PARSING_ALPHA * PALETTE[label_map].astype(float))
    assert np.abs(parsing[parts] - expected[parts]).max() <= 1
    assert (parsing[parts] != frame[parts]).any(-1).mean() > 0.95
    drawing = render_landmarks(points, 224, frame)
    lines = render_landmarks(points, 224).sum(-1) > 0  # where the canvas drawing has anything
    assert np.array_equal(drawing[~lines], frame[~lines])
    x, y = np.round(points).astype(int).T
    assert (drawing[y, x] == (0, 255, 0)).all() and (frame[y, x] != (0, 255, 0)).any(-1).all()
    missing = np.full_like(points, np.nan)
    assert np.array_equal(render_landmarks(missing, 224, frame), frame)  # no face found: the frame as it is


def test_canvas_draws_on_black_whatever_the_frame(face):
    frame, label_map, points = face
    frames, maps, clip_points = frame[None].repeat(2, 0), label_map[None].repeat(2, 0), points[None].repeat(2, 0)
    canvas = render_streams("canvas", frames, maps, clip_points)
    assert np.array_equal(canvas["parsing"][0], PALETTE[label_map])  # the palette on black, as before
    assert np.array_equal(canvas["landmarks"][0], render_landmarks(points, 224))
    other = render_streams("canvas", 255 - frames, maps, clip_points)
    assert all(np.array_equal(canvas[s], other[s]) for s in ("parsing", "landmarks"))
    overlay = render_streams("overlay", frames, maps, clip_points)
    assert np.array_equal(overlay["parsing"][1], render_parsing(label_map, frame))
    assert np.array_equal(overlay["landmarks"][1], render_landmarks(points, 224, frame))
    with pytest.raises(ValueError, match="render: 'outline' is not one of"):
        render_streams("outline", frames, maps)
    with pytest.raises(ValueError, match="model.render"):
        ModelConfig(render="outline")


def test_loader_draws_over_the_jittered_cropped_frames(face):
    """Training (crop, flip, colour jitter): outside the parts and the drawing, the overlays are the frame as
    the frames stream gets it."""
    frame, label_map, points = face
    n = 2
    landmarks = np.concatenate([points / 224, np.zeros((len(points), 1))], 1)[None].repeat(n, 0).astype(np.float32)
    raw = make_sample("clip_1", [jpeg(frame)] * n, [png(label_map)] * n, landmarks, "still", 0, {"group": "train"})
    transform = ClipTransform(64, n, True, ("frames", "parsing", "landmarks"), jitter=0.4)
    for seed in range(4):
        out = {k: unnormalise(v) for k, v in transform(raw, np.random.default_rng(seed)).items()
               if isinstance(v, torch.Tensor)}
        for stream in ("parsing", "landmarks"):
            same = (out[stream] == out["frames"]).all(-1).mean()
            assert 0.1 < same < 0.9, (stream, same)  # the face shows through; parts and lines are drawn
    canvas = ClipTransform(64, n, False, ("frames", "parsing"), render="canvas")(raw, np.random.default_rng(0))
    assert (unnormalise(canvas["parsing"]).sum(-1) == 0).mean() > 0.1  # black background, no face


def test_render_setting_travels_with_the_checkpoint(tmp_path):
    from fineclipper.train.checkpoint import checkpoint_state, load_trained, save_checkpoint
    from fineclipper.train.engine import transform_for

    classes = ["neutral", "happiness"]
    for render in ("canvas", "overlay"):
        model = FineCLIPER(ModelConfig(**TINY, variant="star", render=render), classes)
        path = tmp_path / f"{render}.pt"
        save_checkpoint(path, checkpoint_state(model, {"image_size": None}, 0, {}))
        loaded, state = load_trained(path, "cpu")
        assert state["model_config"]["render"] == render
        assert transform_for(loaded, False, None).render == render
        assert transform_for(loaded, True, None, {"scale": [0.8, 1.0], "jitter": 0.1}).render == render
    assert ModelConfig().render == "overlay"


def test_contact_sheet_shows_what_the_encoders_see(face, tmp_path):
    import cv2

    from fineclipper.inspect import contact_sheet

    frame, label_map, points = face
    landmarks = np.concatenate([points / 224, np.zeros((len(points), 1))], 1)[None].astype(np.float32)
    sample = {"key": "clip_1", "meta": {"label_name": "neutral"}, "frames": [frame], "masks": [label_map],
              "landmarks": landmarks}
    for render in ("overlay", "canvas"):
        contact_sheet(sample, tmp_path / f"{render}.png", render=render)
        sheet = cv2.cvtColor(cv2.imread(str(tmp_path / f"{render}.png")), cv2.COLOR_BGR2RGB)[28:]  # below the title
        frames, parsing, drawing = sheet[:224], sheet[224:448], sheet[448:]
        streams = render_streams(render, frame[None], label_map[None], points[None])
        assert np.array_equal(frames, frame)
        assert np.array_equal(parsing, streams["parsing"][0]) and np.array_equal(drawing, streams["landmarks"][0])


def test_fast_drawing_paths_give_the_same_pixels(face):
    """The loader's quicker calls draw exactly what the plain ones draw: the palette looked up per pixel, the
    contours one polylines call each, a JPEG decoded to BGR and converted."""
    import cv2

    from fineclipper.face import regions as R
    from fineclipper.masks import colorize
    from fineclipper.shards import decode_sample, make_sample

    frame, label_map, points = face
    assert np.array_equal(colorize(label_map), PALETTE[label_map])
    expected = frame.copy()
    pts = np.round(points * 16).astype(np.int32)
    for contour, closed in ((R.FACE_OVAL, True), (R.LEFT_EYE, True), (R.RIGHT_EYE, True), (R.LEFT_BROW, True),
                            (R.RIGHT_BROW, True), (R.UPPER_OUTER, False), (R.LOWER_OUTER, False),
                            (R.UPPER_INNER, False), (R.LOWER_INNER, False)):
        cv2.polylines(expected, [pts[list(contour)].reshape(-1, 1, 2)], closed, (255, 255, 255), 1, cv2.LINE_AA, 4)
    x, y = np.round(points).astype(int).T
    expected[y, x] = (0, 255, 0)
    assert np.array_equal(render_landmarks(points, frame.shape[0], frame), expected)
    data = jpeg(frame)
    decoded = cv2.cvtColor(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    sample = make_sample("k", [data], [png(label_map)], np.zeros((1, 478, 3), np.float32), "still", 0, {})
    assert np.array_equal(decode_sample(sample)["frames"][0], decoded)
