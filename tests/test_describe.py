"""The landmark describer reads real landmark motion; the leakage filter removes emotion words."""

import numpy as np
import pytest

from fineclipper.config import validate_config
from fineclipper.describe import get_describer
from fineclipper.describe.emotion_words import is_emotion_word
from fineclipper.describe.landmarks import measure
from fineclipper.describe.leakage import remove_leakage
from fineclipper.face.mesh import face_mesh_clip
from fineclipper.stages.describe import description_rows


@pytest.fixture(scope="module")
def face_points(astronaut_face):
    points, _ = face_mesh_clip([astronaut_face])
    return points[0]


def _sequence(points, move, n=12):
    """A clip whose landmarks move by ``move(points) * t`` with t ramping from 0 to 1 over its middle."""
    ramp = np.clip(np.linspace(-0.5, 1.5, n), 0, 1)
    return np.stack([points + move(points) * r for r in ramp]).astype(np.float32)


def _describe(seq, detected=None):
    detected = np.ones(len(seq), bool) if detected is None else detected
    return get_describer("landmarks", {})({"landmarks": seq, "detected": detected, "fps": 25.0})


def test_still_face(face_points):
    text = _describe(_sequence(face_points, lambda p: np.zeros_like(p)))
    assert "stay still" in text and "visible in 12 of 12 frames" in text


def test_jaw_drop(face_points):
    mouth_y = (face_points[13, 1] + face_points[14, 1]) / 2

    def drop(p):
        move = np.zeros_like(p)
        move[p[:, 1] > mouth_y + 0.005, 1] = 0.05
        return move

    seq = _sequence(face_points, drop)
    assert measure(seq)["mouth_open"][-1] > measure(seq)["mouth_open"][0] + 0.1
    text = _describe(seq)
    assert "The jaw drops and the mouth opens" in text and "held to the end" in text


def test_head_roll_is_not_a_face_movement(face_points):
    centre = face_points[:, :2].mean(0)
    angle = np.deg2rad(10)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])

    def roll(p):
        move = np.zeros_like(p)
        move[:, :2] = (p[:, :2] - centre) @ rot.T + centre - p[:, :2]
        return move

    text = _describe(_sequence(face_points, roll))
    assert "head tilts" in text and "mouth" not in text and "eyebrows" not in text


def test_too_few_detected_frames(face_points):
    seq = np.repeat(face_points[None], 4, 0)
    assert "too few to describe" in _describe(seq, np.array([True, False, False, False]))


def test_leakage_filter_removes_emotion_and_class_words():
    raw = ("The person looks happy and surprised, with a sense of fear. The lips press together "
           "in an expression of contempt. Her eyes widen; she seems Hangry.")
    text, removed = remove_leakage(raw, extra_words=("hangry",))
    assert [w.lower() for w in removed] == ["happy", "surprised", "fear", "contempt", "hangry"]
    assert not any(is_emotion_word(w.strip(".,;"), ("hangry",)) for w in text.split())
    assert text == "The lips press together. Her eyes widen."


def test_unknown_backend():
    with pytest.raises(ValueError, match="describe.backend: unknown backend 'gpt'"):
        get_describer("gpt", {})


def test_stage_follows_keep_expressive_actions():
    describer, config = get_describer("landmarks", {}), validate_config({})["describe"]
    raw = "She smiles broadly. Her lips part."

    def row(cfg):
        return description_rows(describer, [({"id": "clip"}, raw)], cfg, ["happy"])[0]

    assert config["keep_expressive_actions"] is False
    assert (row(config)["text"], row(config)["removed"]) == ("Her lips part.", ["smiles"])
    kept = row({**config, "keep_expressive_actions": True})
    assert (kept["text"], kept["removed"]) == (raw, [])
