"""The built-in demo dataset: short labelled expression clips made from a real face photograph.

scikit-image's astronaut photograph is the face. MediaPipe Face Mesh locates its 478 landmarks once;
each clip then moves landmark groups (lip corners, lips, jaw, brows, eyelids) over time with an
onset-apex intensity curve and warps the image piecewise-affinely through the moved landmarks,
adds head motion (rotation, scale, translation), lighting changes, blinks and sensor noise, and is
encoded as an H.264 (or MPEG-4) video. Everything is deterministic for a seed.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache
from pathlib import Path

import numpy as np

#: Landmark groups of the MediaPipe 478-point mesh that the expressions move.
UPPER_LIDS = (246, 161, 160, 159, 158, 157, 173, 466, 388, 387, 386, 385, 384, 398)
LOWER_LIDS = (7, 163, 144, 145, 153, 154, 155, 249, 390, 373, 374, 380, 381, 382)
RIGHT_CORNER, LEFT_CORNER, CHIN, UPPER_INNER, LOWER_INNER = 61, 291, 152, 13, 14

#: Each expression: (points moved, centre landmark, (dx, dy), sigma); displacements and sigma are in
#: units of the inter-ocular distance, y points down. Points moved: None (all, with a Gaussian falloff
#: around the centre), a tuple of landmark indices, "lower_face" (below the mouth line) or "above_eyes"
#: (fading out towards the upper eyelids, so brows move against the eyes without folding the mesh).
EXPRESSIONS: dict[str, list] = {
    "neutral": [],
    "happiness": [
        (None, RIGHT_CORNER, (-0.10, -0.12), 0.14), (None, LEFT_CORNER, (0.10, -0.12), 0.14),
        (LOWER_LIDS, 145, (0.0, -0.04), 0.25), (LOWER_LIDS, 374, (0.0, -0.04), 0.25),
        ("lower_face", LOWER_INNER, (0.0, 0.05), 0.2),
    ],
    "surprise": [
        (None, 105, (0.0, -0.12), 0.3), (None, 334, (0.0, -0.12), 0.3),
        ("lower_face", CHIN, (0.0, 0.30), 0.6),
        (None, RIGHT_CORNER, (0.04, 0.0), 0.1), (None, LEFT_CORNER, (-0.04, 0.0), 0.1),
    ],
    "anger": [
        ("above_eyes", 105, (0.03, 0.09), 0.3), ("above_eyes", 334, (-0.03, 0.09), 0.3),
        ("above_eyes", 55, (0.05, 0.0), 0.12), ("above_eyes", 285, (-0.05, 0.0), 0.12),
        (None, RIGHT_CORNER, (0.06, 0.03), 0.1), (None, LEFT_CORNER, (-0.06, 0.03), 0.1),
        ("lower_face", LOWER_INNER, (0.0, -0.03), 0.15),
    ],
    "sadness": [
        (None, 55, (0.0, -0.08), 0.14), (None, 285, (0.0, -0.08), 0.14),
        (None, RIGHT_CORNER, (0.02, 0.10), 0.12), (None, LEFT_CORNER, (-0.02, 0.10), 0.12),
        (UPPER_LIDS, 159, (0.0, 0.03), 0.3), (UPPER_LIDS, 386, (0.0, 0.03), 0.3),
    ],
}


def demo_manifest(cfg: dict, video_dir: str | Path, name: str = "demo") -> list[dict]:
    """Manifest rows of the demo: ``clips_per_class`` clips per class, the first ``test_per_class`` in ``test``."""
    unknown = [c for c in cfg["classes"] if c not in EXPRESSIONS]
    if unknown:
        raise ValueError(f"demo.classes: no expression defined for {unknown}; choose from {sorted(EXPRESSIONS)}")
    if cfg["test_per_class"] >= cfg["clips_per_class"]:
        raise ValueError(f"demo.test_per_class ({cfg['test_per_class']}) must be below demo.clips_per_class "
                         f"({cfg['clips_per_class']}): no clip would be left to train on")
    rows = []
    for label, cls in enumerate(cfg["classes"]):
        for i in range(cfg["clips_per_class"]):
            vid = f"{cls}_{i:03d}"
            rows.append({
                "id": vid, "source": str(Path(video_dir) / f"{vid}.mp4"), "label": label, "label_name": cls,
                "group": "test" if i < cfg["test_per_class"] else "train", "dataset": name,
                "num_frames": cfg["frames"],
            })
    return rows


@lru_cache(maxsize=1)
def face_model() -> tuple[np.ndarray, np.ndarray]:
    """The astronaut photograph and its 478 Face Mesh landmarks in pixels (x, y)."""
    import mediapipe as mp
    import skimage.data

    from ..face.quiet import native_logs_silenced

    image = skimage.data.astronaut()
    with native_logs_silenced(), mp.solutions.face_mesh.FaceMesh(static_image_mode=True, refine_landmarks=True,
                                                                 max_num_faces=1) as mesh:
        result = mesh.process(image)
    if not result.multi_face_landmarks:
        raise RuntimeError("MediaPipe found no face in scikit-image's astronaut photograph")
    h, w = image.shape[:2]
    pts = np.array([(p.x * w, p.y * h) for p in result.multi_face_landmarks[0].landmark], np.float64)
    return image, pts


def expression_offsets(points: np.ndarray, expression: str, unit: float) -> np.ndarray:
    """Landmark displacements (pixels) of an expression at full intensity."""
    offsets = np.zeros_like(points)
    mouth_y = (points[UPPER_INNER, 1] + points[LOWER_INNER, 1]) / 2
    eye_top_y = min(points[159, 1], points[386, 1])
    for group, centre, (dx, dy), sigma in EXPRESSIONS[expression]:
        if group is None:
            mask = np.ones(len(points), bool)
        elif group == "lower_face":
            mask = points[:, 1] > mouth_y
        elif group == "above_eyes":
            mask = np.clip((eye_top_y - points[:, 1]) / (0.15 * unit), 0, 1)
        else:
            mask = np.zeros(len(points))
            mask[list(group)] = 1
        dist2 = ((points - points[centre]) ** 2).sum(1) / (sigma * unit) ** 2
        weight = np.exp(-0.5 * dist2) * mask
        offsets += weight[:, None] * np.array([dx, dy]) * unit
    return offsets


def piecewise_affine_map(dst: np.ndarray, src: np.ndarray, triangles: np.ndarray, size: int) -> np.ndarray:
    """Per-pixel source coordinates of a piecewise-affine warp taking triangles ``src`` onto ``dst``.

    Each destination triangle is rasterised with its index; every pixel then gets the affine map of
    its triangle. Returns a ``(size, size, 2)`` float32 map for ``cv2.remap``.
    """
    import cv2

    index = np.full((size, size), -1, np.int32)
    for k, tri in enumerate(triangles):
        cv2.fillConvexPoly(index, np.round(dst[tri] * 16).astype(np.int32), k, lineType=cv2.LINE_8, shift=4)
    ones = np.ones((len(triangles), 3, 1))
    a = np.concatenate([dst[triangles], ones], 2)  # (K, 3, 3): rows [x, y, 1] of destination corners
    b = src[triangles]  # (K, 3, 2)
    affine = np.linalg.solve(a + 1e-9 * np.eye(3), b)  # (K, 3, 2): [x, y, 1] @ affine -> source point
    ys, xs = np.mgrid[0:size, 0:size]
    homog = np.stack([xs, ys, np.ones_like(xs)], -1).astype(np.float64)
    mapping = np.einsum("hwi,hwij->hwj", homog, affine[np.maximum(index, 0)])
    return mapping.astype(np.float32)


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0, 1)
    return x * x * (3 - 2 * x)


def render_clip(expression: str, seed: int, cfg: dict) -> np.ndarray:
    """Render one clip as a ``(frames, size, size, 3)`` uint8 array."""
    import cv2
    from scipy.spatial import Delaunay

    rng = np.random.default_rng(seed)
    image, pts = face_model()
    pts = pts[:468]  # the refined iris points sit inside the eyelids and would fold the mesh in a blink
    n, size = cfg["frames"], cfg["size"]
    unit = np.linalg.norm(pts[33] - pts[263])  # outer eye corners
    centre = pts.mean(0)
    half = 1.8 * unit  # half the side of the square of the photograph that fills a frame at scale 1
    # Fixed anchors: a ring around the face and the corners of a generous box keep the warp local.
    ring = centre + 1.9 * unit * np.stack([np.cos(a := np.linspace(0, 2 * np.pi, 16, endpoint=False)), np.sin(a)], 1)
    box = centre + 4 * unit * np.array([[-1, -1], [1, -1], [1, 1], [-1, 1], [0, -1], [1, 0], [0, 1], [-1, 0]])
    src_points = np.concatenate([pts, ring, box])
    offsets = np.concatenate([expression_offsets(pts, expression, unit), np.zeros((len(ring) + len(box), 2))])

    t = np.linspace(0, 1, n)
    onset, rise = rng.uniform(0.1, 0.35), rng.uniform(0.15, 0.3)
    intensity = rng.uniform(0.7, 1.0) * _smoothstep((t - onset) / rise)
    blink_at = rng.uniform(0.2, 0.9) if rng.random() < 0.5 else None
    blink_offsets = np.zeros_like(pts)
    blink_offsets[list(UPPER_LIDS), 1] = 0.08 * unit
    blink_offsets = np.concatenate([blink_offsets, np.zeros((len(ring) + len(box), 2))])
    phase = rng.uniform(0, 2 * np.pi, 4)
    angle = np.deg2rad(4 * np.sin(2 * np.pi * t * rng.uniform(0.3, 1.0) + phase[0]))
    scale = rng.uniform(0.9, 1.1) * (1 + 0.04 * np.sin(2 * np.pi * t * 0.5 + phase[1]))
    shift = rng.uniform(-0.06, 0.06, 2) * size + 0.03 * size * np.stack(
        [np.sin(2 * np.pi * t + phase[2]), np.cos(2 * np.pi * t * 0.7 + phase[3])], 1)
    gain = rng.uniform(0.8, 1.15) * (1 + 0.08 * np.sin(2 * np.pi * t + phase[0]))
    gradient = np.linspace(-1, 1, size)[None, :, None] * rng.uniform(-25, 25)

    triangles = Delaunay(src_points).simplices
    frames = np.empty((n, size, size, 3), np.uint8)
    for i in range(n):
        moved = src_points + intensity[i] * offsets
        if blink_at is not None:
            moved = moved + max(0.0, 1 - abs(t[i] - blink_at) * n / 2) * blink_offsets
        # Similarity from photograph coordinates to output pixels (head motion), applied to the moved mesh.
        c, s = np.cos(angle[i]), np.sin(angle[i])
        to_frame = ((moved - centre) @ np.array([[c, -s], [s, c]]).T * scale[i] * (size / (2 * half))
                    + size / 2 + shift[i])
        mapping = piecewise_affine_map(to_frame, src_points, triangles, size)
        frame = cv2.remap(image, mapping[..., 0], mapping[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        frame = frame.astype(np.float32) * gain[i] + gradient + rng.normal(0, 3, frame.shape)
        frames[i] = np.clip(frame, 0, 255).astype(np.uint8)
    return frames


def write_video(path: str | Path, frames: np.ndarray, fps: int, faststart: bool = False) -> None:
    """Encode frames (T, H, W, 3 uint8 RGB, even sizes) to an MP4 file, atomically and deterministically;
    ``faststart`` puts the index first."""
    import av
    import cv2

    from ..io import atomic_path

    options = {"movflags": "faststart"} if faststart else {}
    with atomic_path(path) as tmp:
        with av.open(str(tmp), mode="w", format="mp4", options=options) as container:
            codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
            stream = container.add_stream(codec, rate=fps)
            stream.width, stream.height, stream.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
            # The same frames must give the same file, run after run. Measured here, they did not (decoded
            # frames up to 35 grey levels apart) with x264's lookahead or several threads, frames without
            # timestamps, or PyAV's own RGB to YUV conversion; OpenCV converts, one thread encodes.
            stream.options = ({"crf": "18", "threads": "1", "rc-lookahead": "0"} if codec == "libx264"
                              else {"threads": "1"})
            if codec == "mpeg4":
                stream.bit_rate = 2_000_000
            for i, frame in enumerate(frames):
                video_frame = av.VideoFrame.from_ndarray(cv2.cvtColor(frame, cv2.COLOR_RGB2YUV_I420), format="yuv420p")
                video_frame.pts = i
                container.mux(stream.encode(video_frame))
            container.mux(stream.encode())


def _make_one(args: tuple[dict, dict]) -> str:
    row, cfg = args
    seed = cfg["seed"] * 100_003 + row["label"] * 1_009 + int(row["id"].rsplit("_", 1)[1])
    write_video(row["source"], render_clip(row["label_name"], seed, cfg), cfg["fps"])
    return row["source"]


def write_demo(cfg: dict, video_dir: str | Path, workers: int = 1, name: str = "demo") -> list[dict]:
    """Render and write every demo clip; returns the manifest rows."""
    from tqdm import tqdm

    rows = demo_manifest(cfg, video_dir, name)
    Path(video_dir).mkdir(parents=True, exist_ok=True)
    jobs = [(r, cfg) for r in rows]
    desc = f"demo clips -> {video_dir}"
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            list(tqdm(pool.map(_make_one, jobs), total=len(jobs), desc=desc))
    else:
        for job in tqdm(jobs, desc=desc):
            _make_one(job)
    return rows

