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


class LandmarkParser:
    """Label map ``(H, W)`` uint8 from one frame's normalised landmarks (all zeros if they are NaN).

    It needs only the frame's size, not its pixels (``needs_image`` is False).
    """

    needs_image = False

    def __init__(self, cfg: dict | None = None):
        self.cfg = cfg or {}

    def __call__(self, landmarks: np.ndarray, shape: tuple[int, int], image: np.ndarray | None = None) -> np.ndarray:
        import cv2

        h, w = shape
        label_map = np.zeros((h, w), np.uint8)
        if np.isnan(landmarks[:, :2]).any():
            return label_map
        # Sub-pixel polygon corners (4 fractional bits).
        pts = np.round(landmarks[:, :2] * (w, h) * 16).astype(np.int32)
        for name, indices, hull in _POLYGONS:
            poly = pts[list(indices)]
            if hull:
                poly = cv2.convexHull(poly)
            cv2.fillPoly(label_map, [poly.reshape(-1, 1, 2)], LABEL_INDEX[name], lineType=cv2.LINE_8, shift=4)
        return label_map
