"""Render the middle-level streams as images CLIP can see: colour parsing maps, landmark drawings."""

from __future__ import annotations

import numpy as np

from ..face import regions as R
from ..masks import colorize

_CONTOURS = ((R.FACE_OVAL, True), (R.LEFT_EYE, True), (R.RIGHT_EYE, True), (R.LEFT_BROW, True),
             (R.RIGHT_BROW, True), (R.UPPER_OUTER, False), (R.LOWER_OUTER, False), (R.UPPER_INNER, False),
             (R.LOWER_INNER, False))


def render_parsing(label_map: np.ndarray) -> np.ndarray:
    """RGB image of a face-part label map."""
    return colorize(label_map)


def render_landmarks(points: np.ndarray, size: int) -> np.ndarray:
    """Landmarks (pixel x, y; NaN where missing) as points and region contours on a black canvas."""
    import cv2

    canvas = np.zeros((size, size, 3), np.uint8)
    xy = points[:, :2]
    if np.isnan(xy).any():
        return canvas
    pts = np.round(xy * 16).astype(np.int32)
    for indices, closed in _CONTOURS:
        cv2.polylines(canvas, [pts[list(indices)].reshape(-1, 1, 2)], closed, (255, 255, 255), 1, cv2.LINE_AA, 4)
    x, y = np.round(xy).astype(int).T
    inside = (x >= 0) & (x < size) & (y >= 0) & (y < size)
    canvas[y[inside], x[inside]] = (0, 255, 0)
    return canvas
