"""What both SAM paths share: the face parts in painting order and their prompts (a box and points from a
frame's MediaPipe landmarks), in a frame's pixels and in the encoder's input coordinates."""

from __future__ import annotations

import numpy as np

from ..face import regions as R

#: Parts in painting order (later ones overwrite earlier ones).
PARTS = ("hair", "skin", "nose", "left_brow", "right_brow", "left_eye", "right_eye", "upper_lip", "lower_lip",
         "inner_mouth")
#: Landmarks whose bounding box is a part's box prompt, and the landmarks (or landmark pairs, averaged)
#: that are its positive point prompts.
_PROMPTS = {
    "skin": (R.FACE_OVAL, (50, 280, 151)),  # the cheeks and the forehead
    "nose": (R.NOSE, (1,)),
    "left_brow": (R.LEFT_BROW, (R.LEFT_BROW_MID,)),
    "right_brow": (R.RIGHT_BROW, (R.RIGHT_BROW_MID,)),
    "left_eye": (R.LEFT_EYE, (473,)),  # the iris centres
    "right_eye": (R.RIGHT_EYE, (468,)),
    "upper_lip": (R.UPPER_OUTER + R.UPPER_INNER, ((0, 13),)),
    "lower_lip": (R.LOWER_OUTER + R.LOWER_INNER, ((17, 14),)),
    "inner_mouth": (R.UPPER_INNER + R.LOWER_INNER, ((13, 14),)),
}
#: Parts with a landmark polygon to fall back to (all but hair).
POLYGON_PARTS = tuple(_PROMPTS)
#: A part whose landmark box is thinner than this (pixels) is not prompted (a closed mouth has no inside).
MIN_BOX_SIDE = 2.0


def part_prompts(landmarks: np.ndarray, shape: tuple[int, int]) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """``part -> (box (4,), points (K, 2), labels (K,))`` in the frame's pixels from one frame's
    normalised landmarks; parts too thin to prompt are left out."""
    h, w = shape
    xy = landmarks[:, :2].astype(np.float64) * (w, h)
    prompts = {}
    for name, (box_points, point_ids) in _PROMPTS.items():
        corners = xy[list(box_points)]
        box = np.concatenate([corners.min(0), corners.max(0)])
        if min(box[2] - box[0], box[3] - box[1]) < MIN_BOX_SIDE:
            continue
        points = np.array([xy[list(p)].mean(0) if isinstance(p, tuple) else xy[p] for p in point_ids])
        prompts[name] = (box, points, np.ones(len(points)))
    oval = xy[list(R.FACE_OVAL)]
    (x0, y0), (x1, y1) = oval.min(0), oval.max(0)
    face_h, face_w = y1 - y0, x1 - x0
    hair_box = np.array([x0 - 0.15 * face_w, y0 - 0.6 * face_h, x1 + 0.15 * face_w, y0 + 0.15 * face_h])
    hair_box = np.clip(hair_box, 0, [w - 1, h - 1, w - 1, h - 1])
    if min(hair_box[2] - hair_box[0], hair_box[3] - hair_box[1]) >= MIN_BOX_SIDE:
        above = np.clip([(x0 + x1) / 2, y0 - 0.15 * face_h], 0, [w - 1, h - 1])
        prompts["hair"] = (hair_box, np.array([above, xy[R.FOREHEAD]]), np.array([1.0, 0.0]))  # not the forehead
    return prompts


def input_size(shape: tuple[int, int], size: int) -> tuple[int, int]:
    """(H, W) of a frame of ``shape`` in the encoder's ``size`` input, before padding: what
    ``postprocess_masks`` crops its masks to."""
    return tuple(int(round(s * size / max(shape))) for s in shape)


def prompt_arrays(prompts: list[tuple[np.ndarray, np.ndarray, np.ndarray]], shape: tuple[int, int],
                  size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boxes ``(N, 4)``, points ``(N, K, 2)`` and point labels ``(N, K)`` in the encoder's input coordinates from
    ``(box, points, labels)`` prompts in a frame's pixels; shorter point lists are padded with label -1 (no point)."""
    from segment_anything.utils.transforms import ResizeLongestSide

    resize = ResizeLongestSide(size)
    k = max(len(points) for _, points, _ in prompts)
    boxes = np.stack([resize.apply_boxes(box[None], shape)[0] for box, _, _ in prompts])
    points = np.zeros((len(prompts), k, 2))
    labels = -np.ones((len(prompts), k))
    for i, (_, part_points, part_labels) in enumerate(prompts):
        points[i, : len(part_points)] = resize.apply_coords(part_points, shape)
        labels[i, : len(part_labels)] = part_labels
    return boxes, points, labels
