"""The demo dataset: deterministic clips whose faces MediaPipe finds and whose expressions measurably move."""

import numpy as np
import pytest

from fineclipper.datasets.demo import demo_manifest, render_clip
from fineclipper.describe.landmarks import measure
from fineclipper.face.mesh import face_mesh_clip


def test_demo_manifest(demo_cfg, tmp_path):
    rows = demo_manifest(demo_cfg, tmp_path)
    assert len(rows) == 8 and {r["group"] for r in rows} == {"train", "test"}
    assert sum(r["group"] == "test" for r in rows) == 4 and rows[2]["label_name"] == "happiness"
    with pytest.raises(ValueError, match="no expression defined for"):
        demo_manifest({**demo_cfg, "classes": ["neutral", "boredom"]}, tmp_path)


def test_render_is_deterministic(demo_cfg):
    a, b = render_clip("anger", 7, demo_cfg), render_clip("anger", 7, demo_cfg)
    assert a.shape == (12, 160, 160, 3) and np.array_equal(a, b)
    assert not np.array_equal(a, render_clip("anger", 8, demo_cfg))


@pytest.mark.parametrize("expression, feature, sign", [
    ("surprise", "mouth_open", 1), ("surprise", "brow_height", 1), ("happiness", "corner_lift", 1),
    ("happiness", "mouth_width", 1), ("anger", "mouth_width", -1), ("anger", "corner_lift", -1),
])
def test_expressions_move_the_measured_landmarks(demo_cfg, expression, feature, sign):
    """MediaPipe finds the face in every frame, and the expression shows in its landmarks."""
    cfg = {**demo_cfg, "frames": 16}
    points, detected = face_mesh_clip(list(render_clip(expression, 3, cfg)))
    assert detected.all()
    series = measure(points)[feature]
    neutral = measure(face_mesh_clip(list(render_clip("neutral", 3, cfg)))[0])[feature]
    change = (series[-3:].mean() - series[:3].mean()) * sign
    assert change > 0.02 and change > 3 * abs(neutral[-3:].mean() - neutral[:3].mean())
