"""Render the middle-level streams as images CLIP can see: colour parsing maps and landmark drawings, laid
over the face frame as the paper's Fig. 2 shows them (``overlay``) or on a black canvas (``canvas``)."""

from __future__ import annotations

import numpy as np

from ..face import regions as R
from ..masks import colorize
from .config import RENDERS

#: Weight of a part's palette colour where it is blended over the face frame (the frame keeps the rest).
PARSING_ALPHA = 0.6

#: The landmark contours drawn, closed ones then open ones (each drawn in this order by one polylines call).
_CLOSED_CONTOURS = tuple(np.array(c) for c in (R.FACE_OVAL, R.LEFT_EYE, R.RIGHT_EYE, R.LEFT_BROW, R.RIGHT_BROW))
_OPEN_CONTOURS = tuple(np.array(c) for c in (R.UPPER_OUTER, R.LOWER_OUTER, R.UPPER_INNER, R.LOWER_INNER))


def render_parsing(label_map: np.ndarray, frame: np.ndarray | None = None) -> np.ndarray:
    """RGB image of a face-part label map, or of a stack of them (``(..., H, W)`` -> ``(..., H, W, 3)``).

    With ``frame`` (uint8 RGB, the label map's shape plus 3), each part's colour is blended over it with
    weight :data:`PARSING_ALPHA` and background pixels are the frame's own; without, parts on black."""
    import cv2

    width = label_map.shape[-1]
    colours = colorize(np.ascontiguousarray(label_map).reshape(-1, width))
    if frame is None:
        return colours.reshape(*label_map.shape, 3)
    flat = np.ascontiguousarray(frame).reshape(-1, width, 3)
    out = cv2.addWeighted(flat, 1 - PARSING_ALPHA, colours, PARSING_ALPHA, 0)
    background = (label_map.reshape(-1, width) == 0).view(np.uint8)  # label 0: background
    cv2.copyTo(flat, background, out)  # the frame's own pixels there (in place: a tenth of np.where's time)
    return out.reshape(frame.shape)


def render_landmarks(points: np.ndarray, size: int, frame: np.ndarray | None = None) -> np.ndarray:
    """Landmarks (pixel x, y; NaN where missing) as points and region contours, drawn on a copy of ``frame``
    (uint8 RGB) or, without one, on a black ``size`` x ``size`` canvas. A frame without landmarks stays as is."""
    import cv2

    canvas = np.zeros((size, size, 3), np.uint8) if frame is None else frame.copy()
    xy = points[:, :2]
    if np.isnan(xy).any():
        return canvas
    pts = np.round(xy * 16).astype(np.int32)
    for contours, closed in ((_CLOSED_CONTOURS, True), (_OPEN_CONTOURS, False)):
        cv2.polylines(canvas, [pts[c].reshape(-1, 1, 2) for c in contours], closed, (255, 255, 255), 1, cv2.LINE_AA, 4)
    x, y = np.round(xy).astype(int).T
    h, w = canvas.shape[:2]
    inside = (x >= 0) & (x < w) & (y >= 0) & (y < h)
    canvas[y[inside], x[inside]] = (0, 255, 0)
    return canvas


def render_streams(render: str, frames: np.ndarray, label_maps: np.ndarray | None = None,
                   points: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """The parsing and landmarks streams of a clip as its encoders see them, drawn as ``render`` says.

    ``frames``: (T, H, W, 3) uint8 RGB, square (``H == W``); ``label_maps``: (T, H, W); ``points``:
    (T, N, 2+) pixel coordinates in those frames. Only the streams given are drawn."""
    if render not in RENDERS:
        raise ValueError(f"render: {render!r} is not one of {list(RENDERS)}")
    overlay = render == "overlay"
    out = {}
    if label_maps is not None:
        out["parsing"] = render_parsing(label_maps, frames if overlay else None)
    if points is not None:
        size = frames.shape[1]
        out["landmarks"] = np.stack([render_landmarks(p, size, f if overlay else None) for p, f in zip(points, frames)])
    return out
