"""WAR (accuracy), UAR (mean per-class recall), per-class recall and the confusion matrix, over every listed
test clip: a clip lost in preprocessing has no prediction (``MISSING``) and counts as wrong."""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: The prediction of a listed clip that is in no shard.
MISSING = -1


def confusion_matrix(labels, predictions, num_classes: int) -> np.ndarray:
    """Rows: true class, columns: predicted class, plus a last column of clips without a prediction."""
    matrix = np.zeros((num_classes, num_classes + 1), np.int64)
    predictions = np.asarray(predictions, int)
    np.add.at(matrix, (np.asarray(labels, int), np.where(predictions == MISSING, num_classes, predictions)), 1)
    return matrix


def scores(labels, predictions, class_names: list[str]) -> dict:
    """WAR and UAR over all clips (``MISSING`` is wrong), UAR over the classes present in ``labels``;
    per-class recall (None if absent), support, missing clips per class, the confusion matrix."""
    k = len(class_names)
    full = confusion_matrix(labels, predictions, k)
    support = full.sum(1)
    recall = [float(full[i, i] / support[i]) if support[i] else None for i in range(k)]
    present = [r for r in recall if r is not None]
    return {
        "war": float(np.trace(full[:, :k]) / max(1, support.sum())),
        "uar": float(np.mean(present)) if present else 0.0,
        "per_class_recall": dict(zip(class_names, recall)),
        "support": dict(zip(class_names, support.tolist())),
        "missing_per_class": dict(zip(class_names, full[:, k].tolist())),
        "confusion": full[:, :k].tolist(),
        "classes": list(class_names),
        "samples": int(support.sum()),
    }


def coverage_scores(labels, predictions, class_names: list[str]) -> dict:
    """:func:`scores` over every listed clip, with coverage (``listed``, ``evaluated``) and a second pair,
    ``uar_evaluated`` / ``war_evaluated``, over the evaluated clips alone."""
    labels, predictions = np.asarray(labels, int), np.asarray(predictions, int)
    result = scores(labels, predictions, class_names)
    done = predictions != MISSING
    evaluated = scores(labels[done], predictions[done], class_names)
    result.update(listed=int(len(labels)), evaluated=int(done.sum()),
                  uar_evaluated=evaluated["uar"], war_evaluated=evaluated["war"])
    return result


def confusion_figure(classes: list[str], confusion, missing, title: str):
    """A row-normalised confusion matrix with counts in the cells, and a "missing" column when clips of
    the list have no prediction; a matplotlib Figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    matrix = np.array(confusion, float)
    missing = np.array(missing, float)[:, None]
    columns = list(classes)
    if missing.any():
        matrix, columns = np.concatenate([matrix, missing], 1), columns + ["(missing)"]
    norm = matrix / np.maximum(1, matrix.sum(1, keepdims=True))
    fig, ax = plt.subplots(figsize=(1.0 + 0.75 * len(columns), 0.8 + 0.7 * len(classes)))
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(classes)):
        for j in range(len(columns)):
            ax.text(j, i, int(matrix[i, j]), ha="center", va="center", color="white" if norm[i, j] > 0.5 else "black")
    ax.set_xticks(range(len(columns)), columns, rotation=45, ha="right")
    ax.set_yticks(range(len(classes)), classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_confusion(result: dict, path: str | Path, title: str) -> None:
    """An evaluation's confusion matrix as a PNG, with UAR, WAR and coverage in the title."""
    import matplotlib.pyplot as plt

    from ..io import atomic_path

    names = result["classes"]
    coverage = (f"{result['evaluated']}/{result['listed']} clips evaluated" if "listed" in result
                else f"n={result['samples']}")
    fig = confusion_figure(names, result["confusion"], [result["missing_per_class"][c] for c in names],
                           f"{title}\nUAR {result['uar']:.3f}  WAR {result['war']:.3f}  ({coverage})")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")  # the title is wider than the matrix
    plt.close(fig)
