"""The ``landmarks`` describer: measured facial movements turned into sentences that name no emotion.

Per frame it measures, in units of the distance between the outer eye corners and after undoing the
head's roll: mouth opening, mouth width, lip-corner height, brow height, inner-brow distance, eye
opening and head pose (roll, yaw and pitch proxies). It compares the clip's start with its largest
change and its end, and says what moved, how much, when, and whether it came back.
"""

from __future__ import annotations

import numpy as np

from ..face import regions as R

#: Feature -> (threshold of a noticeable change, sentence when it grows, sentence when it shrinks).
FEATURES = {
    "mouth_open": (0.06, "the jaw drops and the mouth opens", "the lips close"),
    "mouth_width": (0.06, "the mouth stretches wider", "the mouth narrows"),
    "corner_lift": (0.025, "the lip corners are pulled upward", "the lip corners are pulled downward"),
    "brow_height": (0.03, "the eyebrows rise", "the eyebrows lower"),
    "brow_gap": (0.04, "the eyebrows move apart", "the eyebrows draw together"),
    "eye_open": (0.025, "the eyes open wider", "the eyes narrow"),
    "roll": (6.0, "the head tilts toward the left shoulder", "the head tilts toward the right shoulder"),
    "yaw": (0.12, "the head turns to its left", "the head turns to its right"),
    "pitch": (0.10, "the head tips down", "the head tips up"),
}


def measure(landmarks: np.ndarray) -> dict[str, np.ndarray]:
    """Per-frame facial measurements of ``(T, 478, 3)`` landmarks (NaN where missing)."""
    xy = landmarks[:, :, :2].astype(np.float64)
    right_eye, left_eye = xy[:, R.RIGHT_EYE_OUTER], xy[:, R.LEFT_EYE_OUTER]
    axis = left_eye - right_eye
    iod = np.linalg.norm(axis, axis=1)
    roll = np.degrees(np.arctan2(axis[:, 1], axis[:, 0]))
    c, s = np.cos(np.radians(-roll)), np.sin(np.radians(-roll))
    centre = (left_eye + right_eye) / 2
    rel = xy - centre[:, None]
    # Undo roll, scale by eye distance: x to the image right, y down.
    u = (rel[..., 0] * c[:, None] - rel[..., 1] * s[:, None]) / iod[:, None]
    v = (rel[..., 0] * s[:, None] + rel[..., 1] * c[:, None]) / iod[:, None]

    def dist(a, b):
        return np.hypot(u[:, a] - u[:, b], v[:, a] - v[:, b])

    cheek_mid = (u[:, R.RIGHT_CHEEK] + u[:, R.LEFT_CHEEK]) / 2
    face_width = u[:, R.LEFT_CHEEK] - u[:, R.RIGHT_CHEEK]
    return {
        "mouth_open": dist(R.LIP_UPPER_INNER, R.LIP_LOWER_INNER),
        "mouth_width": dist(R.MOUTH_RIGHT, R.MOUTH_LEFT),
        # Corners against the upper lip, which stays put when the jaw drops.
        "corner_lift": v[:, R.LIP_UPPER_INNER] - (v[:, R.MOUTH_RIGHT] + v[:, R.MOUTH_LEFT]) / 2,
        "brow_height": ((v[:, R.RIGHT_EYE_TOP] - v[:, R.RIGHT_BROW_MID])
                        + (v[:, R.LEFT_EYE_TOP] - v[:, R.LEFT_BROW_MID])) / 2,
        "brow_gap": dist(R.RIGHT_BROW_INNER, R.LEFT_BROW_INNER),
        "eye_open": (dist(R.RIGHT_EYE_TOP, R.RIGHT_EYE_BOTTOM) + dist(R.LEFT_EYE_TOP, R.LEFT_EYE_BOTTOM)) / 2,
        "roll": -roll,
        "yaw": (u[:, R.NOSE_TIP] - cheek_mid) / face_width,
        "pitch": v[:, R.NOSE_TIP] / (v[:, R.CHIN] - v[:, R.FOREHEAD]),
    }


def _when(position: float) -> str:
    return ("early in the clip" if position < 0.34
            else ("midway through the clip" if position < 0.67 else "late in the clip"))


def _degree(ratio: float) -> str:
    return "slightly" if ratio < 1.8 else ("clearly" if ratio < 3.5 else "strongly")


class LandmarkDescriber:
    """Describe the facial movements of a clip from its landmarks (no model needed)."""

    provenance = {"backend": "landmarks"}

    def __init__(self, cfg: dict | None = None):
        self.cfg = cfg or {}

    def prepare(self, clip: dict) -> dict:
        """The clip as :meth:`describe` takes it: as it is (describing it is quick)."""
        return clip

    def describe(self, clips: list[dict]) -> list[str]:
        """The description of each clip."""
        return [self(clip) for clip in clips]

    def __call__(self, clip: dict) -> str:
        landmarks, detected = clip["landmarks"], np.asarray(clip["detected"], bool)
        total = len(detected)
        valid = np.flatnonzero(detected)
        if len(valid) < 2:
            return f"The face is visible in {len(valid)} of {total} frames; too few to describe its movements."
        feats = {k: x[valid] for k, x in measure(landmarks).items()}
        head = max(1, len(valid) // 5)
        sentences = []
        for name, (threshold, grows, shrinks) in FEATURES.items():
            series = feats[name]
            start = np.median(series[:head])
            delta = series - start
            peak = int(np.argmax(np.abs(delta)))
            change = delta[peak]
            if abs(change) < threshold:
                continue
            end_delta = np.median(delta[-head:])
            text = (f"{grows if change > 0 else shrinks}, {_degree(abs(change) / threshold)}, "
                    f"{_when(peak / max(1, len(series) - 1))}")
            if abs(end_delta) < abs(change) / 3:
                text += ", then back as at the start"
            elif np.sign(end_delta) == np.sign(change):
                text += ", held to the end"
            sentences.append(text)
        if blinks := self._blinks(feats["eye_open"]):
            sentences.append(blinks)
        opening = f"The face is visible in {len(valid)} of {total} frames."
        if not sentences:
            return opening + " The mouth, brows, eyes and head stay still throughout."
        return opening + " " + " ".join(s[0].upper() + s[1:] + "." for s in sentences)

    @staticmethod
    def _blinks(eye_open: np.ndarray) -> str | None:
        """A blink: eye opening drops below half its typical value, then recovers."""
        typical = np.median(eye_open)
        closed = eye_open < 0.5 * typical
        if not closed.any() or closed.all():
            return None
        onsets = int(np.sum(closed[1:] & ~closed[:-1]) + closed[0])
        return "the eyes blink once" if onsets == 1 else f"the eyes blink {onsets} times"
