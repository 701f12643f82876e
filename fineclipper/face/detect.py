"""Face detection (MediaPipe BlazeFace) and a temporally smoothed square crop."""

from __future__ import annotations

import numpy as np

from .quiet import native_logs_silenced


class FaceDetector:
    """The most confident face box per image, in pixels ``(x0, y0, x1, y1)``, or ``None``."""

    def __init__(self, min_confidence: float = 0.5, full_range: bool = False):
        import mediapipe as mp

        with native_logs_silenced():
            self._detector = mp.solutions.face_detection.FaceDetection(
                model_selection=int(full_range), min_detection_confidence=min_confidence)
            # The graph opens its calculators (and they log) on a thread of its own, possibly after the
            # constructor returns: one image through it waits for that while the noise is still silenced.
            self._detector.process(np.zeros((64, 64, 3), np.uint8))

    def __call__(self, image: np.ndarray) -> np.ndarray | None:
        with native_logs_silenced():
            result = self._detector.process(np.ascontiguousarray(image))
        if not result.detections:
            return None
        best = max(result.detections, key=lambda d: d.score[0])
        box = best.location_data.relative_bounding_box
        h, w = image.shape[:2]
        return np.array([box.xmin * w, box.ymin * h, (box.xmin + box.width) * w, (box.ymin + box.height) * h])

    def close(self) -> None:
        with native_logs_silenced():
            self._detector.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def smooth_boxes(boxes: list[np.ndarray | None], window: int) -> np.ndarray:
    """Fill missing boxes by interpolation and smooth centre and size with a moving average.

    ``boxes`` has one entry per frame (``None`` where no face was found); at least one must be a box.
    Returns ``(T, 4)`` boxes ``(x0, y0, x1, y1)``.
    """
    found = [i for i, b in enumerate(boxes) if b is not None]
    if not found:
        raise ValueError("no face box to smooth")
    t = np.arange(len(boxes))
    known = np.array([boxes[i] for i in found])
    cx, cy = (known[:, 0] + known[:, 2]) / 2, (known[:, 1] + known[:, 3]) / 2
    side = np.maximum(known[:, 2] - known[:, 0], known[:, 3] - known[:, 1])
    tracks = np.stack([np.interp(t, found, v) for v in (cx, cy, side)], 1)
    if window > 1 and len(boxes) > 1:
        k = min(window, len(boxes))
        padded = np.pad(tracks, ((k // 2, k - 1 - k // 2), (0, 0)), mode="edge")
        kernel = np.ones(k) / k
        tracks = np.stack([np.convolve(padded[:, j], kernel, mode="valid") for j in range(3)], 1)
    half = tracks[:, 2] / 2
    return np.stack([tracks[:, 0] - half, tracks[:, 1] - half, tracks[:, 0] + half, tracks[:, 1] + half], 1)


def crop_face(image: np.ndarray, box: np.ndarray, margin: float, size: int) -> np.ndarray:
    """Square crop around ``box`` enlarged by ``margin`` (fraction of the side), resized to ``size``.

    Parts outside the image are filled with black.
    """
    import cv2

    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    side = max(box[2] - box[0], box[3] - box[1]) * (1 + margin)
    scale = size / side
    matrix = np.array([[scale, 0, size / 2 - cx * scale], [0, scale, size / 2 - cy * scale]])
    return cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)
