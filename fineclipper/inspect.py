"""Human views of shard samples: a text summary and a contact sheet (frames, parsing, landmarks streams)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .masks import LABELS
from .shards import CAPTION_FIELD, decode_sample, num_frames


def describe_raw(raw: dict) -> str:
    """A few lines on what one raw sample holds."""
    sample = decode_sample(raw, frames=[0]) if num_frames(raw) else None
    meta = json.loads(raw["json"])
    fields = sorted(k for k in raw if not k.startswith("__"))
    shown = [k for k in fields if not k[:3].isdigit()]
    lm = sample["landmarks"] if sample else None
    lines = [
        f"key: {raw['__key__']}  ({meta['dataset']}, group {meta['group']}, chunk {meta['chunk']})",
        f"label: {meta['label']} = {meta['label_name']}",
        f"frames: {num_frames(raw)} x {sample['frames'][0].shape if sample else '-'} "
        f"(source indices {meta['frame_indices']})",
        f"masks: {num_frames(raw)} label maps, labels {', '.join(LABELS)}",
        f"landmarks: {lm.shape[1:] if lm is not None else '-'} per frame, detection rate {meta['detection_rate']:.2f}",
        f"description: {raw['desc.txt'].decode()}",
        f"caption: {raw[CAPTION_FIELD].decode() if CAPTION_FIELD in raw else '(none of its own)'}",
        f"removed words: {meta['removed_words'] or 'none'}",
        f"source: {meta['source']} ({meta['total_frames']} frames, {meta['fps']:.2f} fps)",
        f"fields: {', '.join(shown)} + NNN.jpg / NNN.seg.png",
    ]
    return "\n".join(lines)


def contact_sheet(sample: dict, path: str | Path, columns: int = 8,
                  probabilities: dict[str, float] | None = None, render: str = "overlay") -> None:
    """Write a PNG with rows of frames and of the parsing and landmarks streams drawn as the encoders see
    them (as ``render`` says, a model's ``model.render``); with ``probabilities`` (class -> probability), a
    bar chart of them below."""
    import cv2

    from .io import encode_image, write_bytes
    from .model.render import render_streams

    idx = np.linspace(0, len(sample["frames"]) - 1, min(columns, len(sample["frames"]))).round().astype(int)
    frames = np.stack([sample["frames"][i] for i in idx])
    h, w = frames.shape[1:3]
    streams = render_streams(render, frames, np.stack([sample["masks"][i] for i in idx]),
                             sample["landmarks"][idx, :, :2].astype(np.float32) * (w, h))
    rows = (frames, streams["parsing"], streams["landmarks"])
    sheet = np.concatenate([np.concatenate(list(r), 1) for r in rows], 0)
    title = f"{sample['key']}  label={sample['meta'].get('label_name') or '-'}"
    if probabilities:
        best = max(probabilities, key=probabilities.get)
        title += f"  predicted={best} ({probabilities[best]:.2f})"
    banner = np.full((28, sheet.shape[1], 3), 255, np.uint8)
    cv2.putText(banner, title, (6, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 1, cv2.LINE_AA)
    parts = [banner, sheet]
    if probabilities:
        parts.append(probability_chart(probabilities, sheet.shape[1]))
    write_bytes(path, encode_image(".png", cv2.cvtColor(np.concatenate(parts, 0), cv2.COLOR_RGB2BGR)))


def probability_chart(probabilities: dict[str, float], width: int) -> np.ndarray:
    """A horizontal bar chart of class probabilities, as an RGB image ``width`` pixels wide."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = sorted(probabilities, key=probabilities.get)
    fig, ax = plt.subplots(figsize=(width / 100, 0.3 * len(names) + 0.6), dpi=100)
    ax.barh(names, [probabilities[n] for n in names], color="#3b75af")
    for i, n in enumerate(names):
        ax.text(probabilities[n] + 0.01, i, f"{probabilities[n]:.2f}", va="center", fontsize=8)
    ax.set_xlim(0, 1.1)
    ax.set_xlabel("probability")
    fig.tight_layout()
    fig.canvas.draw()
    chart = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    plt.close(fig)
    return chart[:, :width] if chart.shape[1] >= width else np.pad(chart, ((0, 0), (0, width - chart.shape[1]), (0, 0)),
                                                                     constant_values=255)
