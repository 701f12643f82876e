"""Face landmarks per clip: MediaPipe Face Mesh (478 refined points) or the Tasks FaceLandmarker.

Coordinates are MediaPipe's normalised ones: x and y in [0, 1] of the face crop, z on the scale of x.
Frames without a face get NaN.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .quiet import native_logs_silenced

NUM_LANDMARKS = 478
NUM_BLENDSHAPES = 52


def face_mesh_clip(frames: list[np.ndarray], min_detection: float = 0.5, min_tracking: float = 0.5,
                   refine: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Run Face Mesh in video (tracking) mode over one clip, with a fresh graph per clip.

    Returns ``(T, 478, 3)`` float32 landmarks (NaN where no face) and a ``(T,)`` bool detection flag.
    """
    import mediapipe as mp

    n_points = NUM_LANDMARKS if refine else 468
    out = np.full((len(frames), NUM_LANDMARKS, 3), np.nan, np.float32)
    with native_logs_silenced(), mp.solutions.face_mesh.FaceMesh(
            static_image_mode=False, max_num_faces=1, refine_landmarks=refine, min_detection_confidence=min_detection,
            min_tracking_confidence=min_tracking) as mesh:
        for t, frame in enumerate(frames):
            result = mesh.process(frame)
            if result.multi_face_landmarks:
                lm = result.multi_face_landmarks[0].landmark
                out[t, :n_points] = [(p.x, p.y, p.z) for p in lm]
    return out, ~np.isnan(out[:, 0, 0])


def face_landmarker_clip(frames: list[np.ndarray], task_model: str | Path, fps: float = 25.0,
                         min_detection: float = 0.5, min_tracking: float = 0.5,
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Run the MediaPipe Tasks FaceLandmarker (video mode) over one clip.

    ``task_model`` is a ``face_landmarker.task`` bundle (an uncompressed zip of face_detector.tflite,
    face_landmarks_detector.tflite and, for blendshapes, face_blendshapes.tflite). Returns landmarks
    ``(T, 478, 3)``, detection flags ``(T,)`` and blendshape scores ``(T, 52)`` (NaN where no face),
    or ``None`` for the blendshapes when the bundle has no blendshape model.
    """
    import zipfile

    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    if not Path(task_model).is_file():
        raise FileNotFoundError(f"landmarks.task_model: no such file {task_model}")
    with zipfile.ZipFile(task_model) as bundle:
        with_blendshapes = "face_blendshapes.tflite" in bundle.namelist()
    options = vision.FaceLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(task_model)), running_mode=vision.RunningMode.VIDEO,
        num_faces=1, min_face_detection_confidence=min_detection, min_face_presence_confidence=min_tracking,
        min_tracking_confidence=min_tracking, output_face_blendshapes=with_blendshapes)
    points = np.full((len(frames), NUM_LANDMARKS, 3), np.nan, np.float32)
    shapes = np.full((len(frames), NUM_BLENDSHAPES), np.nan, np.float32)
    step_ms = 1000.0 / (fps or 25.0)
    with native_logs_silenced(), vision.FaceLandmarker.create_from_options(options) as landmarker:
        for t, frame in enumerate(frames):
            image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(frame))
            result = landmarker.detect_for_video(image, int(t * step_ms))
            if result.face_landmarks:
                lm = result.face_landmarks[0]
                points[t, : len(lm)] = [(p.x, p.y, p.z) for p in lm]
                if result.face_blendshapes:
                    scores = [c.score for c in result.face_blendshapes[0]]
                    shapes[t, : len(scores)] = scores
    return points, ~np.isnan(points[:, 0, 0]), shapes if with_blendshapes else None
