"""WAR (accuracy), UAR (mean per-class recall), per-class recall and the confusion matrix."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def confusion_matrix(labels, predictions, num_classes: int) -> np.ndarray:
    """Rows: true class, columns: predicted class."""
    matrix = np.zeros((num_classes, num_classes), np.int64)
    np.add.at(matrix, (np.asarray(labels, int), np.asarray(predictions, int)), 1)
    return matrix


def scores(labels, predictions, class_names: list[str]) -> dict:
    """WAR, UAR over the classes present in ``labels``, per-class recall (None if absent), the matrix."""
    matrix = confusion_matrix(labels, predictions, len(class_names))
    support = matrix.sum(1)
    recall = [float(matrix[i, i] / support[i]) if support[i] else None for i in range(len(class_names))]
    present = [r for r in recall if r is not None]
    return {
        "war": float(np.trace(matrix) / max(1, matrix.sum())),
        "uar": float(np.mean(present)) if present else 0.0,
        "per_class_recall": dict(zip(class_names, recall)),
        "support": dict(zip(class_names, support.tolist())),
        "confusion": matrix.tolist(),
        "classes": list(class_names),
        "samples": int(matrix.sum()),
    }


def plot_confusion(result: dict, path: str | Path, title: str) -> None:
    """Row-normalised confusion matrix as a PNG, counts in the cells."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..io import atomic_path

    matrix = np.array(result["confusion"], float)
    norm = matrix / np.maximum(1, matrix.sum(1, keepdims=True))
    names = result["classes"]
    fig, ax = plt.subplots(figsize=(1.0 + 0.75 * len(names), 0.8 + 0.7 * len(names)))
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(names)):
        for j in range(len(names)):
            ax.text(j, i, int(matrix[i, j]), ha="center", va="center", color="white" if norm[i, j] > 0.5 else "black")
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"{title}\nUAR {result['uar']:.3f}  WAR {result['war']:.3f}  (n={result['samples']})")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
