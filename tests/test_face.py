"""Face detection, smoothed crops, Face Mesh and the region index sets, on real faces."""

import os
from pathlib import Path

import numpy as np
import pytest

from fineclipper.face import regions as R
from fineclipper.face.detect import FaceDetector, crop_face, smooth_boxes
from fineclipper.face.mesh import NUM_LANDMARKS, face_landmarker_clip, face_mesh_clip


def test_detector_finds_the_astronauts_face(astronaut):
    with FaceDetector() as detector:
        box = detector(astronaut)
        assert detector(np.zeros((200, 200, 3), np.uint8)) is None
    # her face lies around x 180-270, y 80-180 of the 512 px photograph
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    assert 190 < cx < 270 and 90 < cy < 180 and 60 < box[2] - box[0] < 140


def test_smooth_boxes_interpolates_and_smooths():
    boxes = [np.array([0, 0, 10, 10.0]), None, np.array([20, 0, 30, 10.0]), np.array([20, 0, 30, 10.0])]
    out = smooth_boxes(boxes, 1)
    assert out[1] == pytest.approx([10, 0, 20, 10])
    # centres 5, (15), 25, 25 padded at the edges and averaged over 3 frames: 8.33, 15, 21.67, 25; side 10
    smoothed = smooth_boxes(boxes, 3)
    assert (smoothed[:, 0] == pytest.approx([10 / 3, 10, 50 / 3, 20])
            and smoothed[:, 2] - smoothed[:, 0] == pytest.approx([10] * 4))
    assert smoothed[:, 1] == pytest.approx([0] * 4)
    with pytest.raises(ValueError):
        smooth_boxes([None, None], 3)


def test_crop_face_pads_outside_the_image(astronaut):
    crop = crop_face(astronaut, np.array([-50, -50, 50, 50.0]), 0.0, 64)
    assert crop.shape == (64, 64, 3) and crop[:20, :20].max() == 0 and crop[40:, 40:].max() > 0


def test_face_mesh_on_real_faces(astronaut_face, carphone):
    from fineclipper.video import read_clip

    points, detected = face_mesh_clip([astronaut_face, np.zeros_like(astronaut_face), astronaut_face])
    assert points.shape == (3, NUM_LANDMARKS, 3) and detected.tolist() == [True, False, True]
    assert np.isnan(points[1]).all() and np.nanmin(points[0, :, :2]) > 0 and np.nanmax(points[0, :, :2]) < 1
    # the subject's left eye is on the image's right
    assert points[0, R.LEFT_EYE_OUTER, 0] > points[0, R.RIGHT_EYE_OUTER, 0]
    frames = read_clip(carphone, 8).frames
    _, detected = face_mesh_clip(frames)
    assert detected.mean() >= 0.75


def test_face_landmarker_needs_its_model_file(astronaut_face, tmp_path):
    with pytest.raises(FileNotFoundError, match="landmarks.task_model: no such file"):
        face_landmarker_clip([astronaut_face], tmp_path / "face_landmarker.task")


@pytest.mark.parametrize("contour, connections, closing", [
    (R.FACE_OVAL, "FACEMESH_FACE_OVAL", True), (R.RIGHT_EYE, "FACEMESH_RIGHT_EYE", True),
    (R.LEFT_EYE, "FACEMESH_LEFT_EYE", True), (R.RIGHT_BROW[:5], "FACEMESH_RIGHT_EYEBROW", False),
    (R.RIGHT_BROW[5:], "FACEMESH_RIGHT_EYEBROW", False), (R.LEFT_BROW[:5], "FACEMESH_LEFT_EYEBROW", False),
    (R.LEFT_BROW[5:], "FACEMESH_LEFT_EYEBROW", False), (R.UPPER_OUTER, "FACEMESH_LIPS", False),
    (R.LOWER_OUTER, "FACEMESH_LIPS", False), (R.UPPER_INNER, "FACEMESH_LIPS", False),
    (R.LOWER_INNER, "FACEMESH_LIPS", False),
])
def test_region_contours_follow_mediapipe_connections(contour, connections, closing):
    from mediapipe.python.solutions import face_mesh_connections

    edges = {frozenset(e) for e in getattr(face_mesh_connections, connections)}
    pairs = list(zip(contour, contour[1:] + (contour[:1] if closing else ())))
    assert all(frozenset(p) in edges for p in pairs)


def test_nose_points_are_mediapipes():
    from mediapipe.python.solutions import face_mesh_connections

    assert set(R.NOSE) == {i for e in face_mesh_connections.FACEMESH_NOSE for i in e}


@pytest.fixture(scope="module")
def local_task_bundle(tmp_path_factory):
    """A FaceLandmarker .task bundle made from the models inside the mediapipe wheel (no blendshapes)."""
    import zipfile

    import mediapipe

    modules = Path(mediapipe.__file__).parent / "modules"
    path = tmp_path_factory.mktemp("task") / "face_landmarker.task"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as bundle:  # Tasks wants it uncompressed
        bundle.write(modules / "face_detection" / "face_detection_short_range.tflite", "face_detector.tflite")
        bundle.write(modules / "face_landmark" / "face_landmark.tflite", "face_landmarks_detector.tflite")
    return path


def test_tasks_face_landmarker_runs_a_bundle(astronaut_face, local_task_bundle):
    """The Tasks path loads a bundle and runs in video mode. The wheel's legacy 468-point model is not
    the bundle's own landmark model, so its coordinates mean little: checked here is the plumbing. Points
    where a face was found and NaN where none was; the bundle's model made them, not Face Mesh."""
    frames = [astronaut_face, np.zeros_like(astronaut_face), astronaut_face]
    points, detected, shapes = face_landmarker_clip(frames, local_task_bundle)
    assert points.shape == (3, NUM_LANDMARKS, 3) and shapes is None
    assert detected.tolist() == [True, False, True]
    assert np.isfinite(points[detected]).all() and np.isnan(points[~detected]).all()
    mesh, _ = face_mesh_clip([astronaut_face])
    assert np.abs(points[0] - mesh[0]).mean() > 0.01  # not Face Mesh's points
    _, none_found, _ = face_landmarker_clip([np.zeros_like(astronaut_face)], local_task_bundle)
    assert not none_found.any()


def test_landmark_stage_with_a_task_model(astronaut_face, local_task_bundle):
    """With landmarks.task_model the stage stores what the bundle finds on its decoded RGB frames (as
    float16), with the same detected flags, and no blendshapes (the bundle has no blendshape model)."""
    import cv2

    from fineclipper.config import load_config
    from fineclipper.io import npy_load
    from fineclipper.stages.frames import encode_jpeg
    from fineclipper.stages.landmarks import LandmarkExtractor

    cfg = load_config(overrides={"landmarks": {"task_model": str(local_task_bundle)}})["landmarks"]
    row = {"id": "a", "jpegs": [encode_jpeg(astronaut_face, 90)] * 3, "fps": 25.0}
    out = LandmarkExtractor(cfg)(row)
    stored = np.ascontiguousarray(cv2.imdecode(np.frombuffer(row["jpegs"][0], np.uint8), cv2.IMREAD_COLOR)[..., ::-1])
    points, detected, _ = face_landmarker_clip([stored] * 3, local_task_bundle)
    assert out["detected"] == detected.tolist() and detected[0]
    np.testing.assert_array_equal(npy_load(out["landmarks"]), points.astype(np.float16))
    assert out["blendshapes"] is None


@pytest.mark.skipif(not os.environ.get("FINECLIPPER_FACE_LANDMARKER_TASK"),
                    reason="set FINECLIPPER_FACE_LANDMARKER_TASK to a real face_landmarker.task "
                           "(not downloadable here)")
def test_tasks_face_landmarker_agrees_with_face_mesh(astronaut_face):
    """With the real bundle: 478 points in the crop, on the face Face Mesh finds, and 52 blendshapes."""
    points, detected, shapes = face_landmarker_clip([astronaut_face] * 2,
                                                    os.environ["FINECLIPPER_FACE_LANDMARKER_TASK"])
    mesh, _ = face_mesh_clip([astronaut_face])
    assert detected.all() and np.nanmin(points[0, :, :2]) > 0 and np.nanmax(points[0, :, :2]) < 1
    assert np.abs(points[0, :, :2] - mesh[0, :, :2]).mean() < 0.02  # within about 4 px of 224
    assert shapes is not None and shapes.shape == (2, 52)
