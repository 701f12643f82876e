"""The face-part label set, the one place that defines it. Left/right are the subject's own."""

import numpy as np

LABELS = ("background", "skin", "left_brow", "right_brow", "left_eye", "right_eye", "nose",
          "upper_lip", "inner_mouth", "lower_lip", "hair")
LABEL_INDEX = {name: i for i, name in enumerate(LABELS)}

#: RGB colour per label for rendering parsing maps as images.
PALETTE = np.array([
    (0, 0, 0), (204, 153, 102), (0, 102, 255), (0, 204, 255), (0, 153, 0), (102, 255, 102),
    (255, 255, 0), (255, 0, 0), (128, 0, 64), (255, 102, 178), (120, 60, 20)], np.uint8)


_LUT = np.zeros((256, 1, 3), np.uint8)
_LUT[: len(PALETTE), 0] = PALETTE


def colorize(label_map: np.ndarray) -> np.ndarray:
    """RGB image of a label map (values outside the label set are black)."""
    import cv2

    return cv2.applyColorMap(label_map, _LUT)  # the table lookup into 3 channels, without merging 3 copies first


#: Each label's label in the horizontally flipped image: left and right parts swap sides.
_MIRROR_LUT = np.arange(256, dtype=np.uint8)
for _side in ("brow", "eye"):
    _left, _right = LABEL_INDEX[f"left_{_side}"], LABEL_INDEX[f"right_{_side}"]
    _MIRROR_LUT[[_left, _right]] = _right, _left


def mirror(label_map: np.ndarray) -> np.ndarray:
    """The label map of the horizontally flipped image: flipped, with left and right labels swapped."""
    import cv2

    return cv2.LUT(cv2.flip(label_map, 1), _MIRROR_LUT)
