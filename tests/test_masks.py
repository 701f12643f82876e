"""The landmark parser fills the label set's face parts where the landmarks put them."""

import numpy as np

from fineclipper.face import regions as R
from fineclipper.face.mesh import face_mesh_clip
from fineclipper.masks import LABELS, colorize, get_parser
from fineclipper.masks.labels import LABEL_INDEX


def test_label_set_has_a_painter_and_a_colour_for_each_label():
    from fineclipper.masks.labels import PALETTE
    from fineclipper.masks.landmarks import _POLYGONS
    from fineclipper.masks.sam import PARTS

    painted = {name for name, _, _ in _POLYGONS} | set(PARTS)
    assert set(LABELS) - painted == {"background"} and painted <= set(LABELS)
    assert len(PALETTE) == len(LABELS) and len({tuple(c) for c in PALETTE}) == len(LABELS)


def test_landmark_parser_on_the_astronaut(astronaut_face):
    points, _ = face_mesh_clip([astronaut_face])
    label_map = get_parser("landmarks", {})(points[0], astronaut_face.shape[:2])
    assert label_map.shape == astronaut_face.shape[:2] and label_map.dtype == np.uint8
    present = set(np.unique(label_map).tolist())
    assert present == set(range(len(LABELS))) - {LABEL_INDEX["hair"]}  # she smiles with teeth: inner mouth shows
    h, w = label_map.shape

    def label_at(index):
        x, y = points[0, index, :2] * (w, h)
        return LABELS[label_map[int(round(y)), int(round(x))]]

    assert label_at(R.NOSE_TIP) == "nose"
    # the centre of the left eye (iris centre 473) and the region left of the outer eye corner
    assert label_at(473) == "left_eye" and label_at(468) == "right_eye"
    assert label_at(4) == "nose" and label_at(152) in ("skin", "background")
    assert colorize(label_map).shape == astronaut_face.shape


def test_no_landmarks_gives_background(astronaut_face):
    nan = np.full((478, 3), np.nan, np.float32)
    assert get_parser("landmarks", {})(nan, astronaut_face.shape[:2]).max() == 0


def test_unknown_parser_is_a_clear_error():
    import pytest

    with pytest.raises(ValueError, match="masks.parser: unknown parser 'sam2'"):
        get_parser("sam2", {})
