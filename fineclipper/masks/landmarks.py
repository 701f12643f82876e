"""The ``landmarks`` parser: face-part polygons of the landmark mesh filled into a label map.

Fast and offline; it sees no hair (that label stays empty). Regions are painted from the largest
(skin) to the smallest, so inner parts overwrite outer ones.
"""

from __future__ import annotations

import numpy as np

from ..face import regions as R
from .labels import LABEL_INDEX

_POLYGONS = (
    ("skin", R.FACE_OVAL, False),
    ("nose", R.NOSE, True),
    ("left_brow", R.LEFT_BROW, False),
    ("right_brow", R.RIGHT_BROW, False),
    ("left_eye", R.LEFT_EYE, False),
    ("right_eye", R.RIGHT_EYE, False),
    ("upper_lip", R.UPPER_OUTER + R.UPPER_INNER[::-1], False),
    ("lower_lip", R.LOWER_OUTER + R.LOWER_INNER[::-1], False),
    ("inner_mouth", R.UPPER_INNER + R.LOWER_INNER[::-1], False),
)


def _fill(target: np.ndarray, name: str, landmarks: np.ndarray, value: int) -> None:
    """Fill one face part's polygon (``_POLYGONS``) into ``target`` with ``value``, at sub-pixel precision."""
    import cv2

    h, w = target.shape
    indices, hull = _PARTS[name]
    poly = np.round(landmarks[list(indices), :2] * (w, h) * 16).astype(np.int32)  # 4 fractional bits
    if hull:
        poly = cv2.convexHull(poly)
    cv2.fillPoly(target, [poly.reshape(-1, 1, 2)], value, lineType=cv2.LINE_8, shift=4)


def part_polygon(name: str, landmarks: np.ndarray, shape: tuple[int, int]) -> np.ndarray | None:
    """The filled polygon of one face part as a ``(H, W)`` bool mask; None without landmarks."""
    if np.isnan(landmarks[:, :2]).any():
        return None
    mask = np.zeros(shape, np.uint8)
    _fill(mask, name, landmarks, 1)
    return mask.astype(bool)


_PARTS = {name: (indices, hull) for name, indices, hull in _POLYGONS}


class LandmarkParser:
    """Label map ``(H, W)`` uint8 from one frame's normalised landmarks (all zeros if they are NaN).

    It needs only the frame's size, not its pixels (``needs_image`` is False).
    """

    needs_image = False

    def __init__(self, cfg: dict | None = None):
        self.cfg = cfg or {}

    def parse(self, images: list | None, landmarks: np.ndarray,
              shape: tuple[int, int]) -> tuple[list[np.ndarray], dict]:
        """Label maps of a clip's frames from their ``(T, 478, 3)`` landmarks; no per-clip information."""
        return [self(points, shape) for points in landmarks], {}

    def __call__(self, landmarks: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
        label_map = np.zeros(shape, np.uint8)
        if not np.isnan(landmarks[:, :2]).any():
            for name, _, _ in _POLYGONS:  # largest first: inner parts overwrite outer ones
                _fill(label_map, name, landmarks, LABEL_INDEX[name])
        return label_map
