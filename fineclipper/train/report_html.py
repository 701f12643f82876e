"""The report as one self-contained HTML page: tables of ours beside the paper's, and figures (per-class
recall, confusion matrices, training curves, preprocessing statistics) embedded as PNG."""

from __future__ import annotations

import base64
import html
import io

import numpy as np

from .metrics import confusion_figure

#: The datasets of the paper's Table 3, its columns.
TABLE3_DATASETS = ("dfew", "ferv39k", "mafw")
#: Our caption sources as Table 3 names its pre-training captions.
CAPTION_KINDS = {"dataset": "video", "describe": "fine-grained"}

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 2em; }
table { border-collapse: collapse; margin: 1em 0; font-size: .92em; }
th, td { border: 1px solid #ccc; padding: .3em .6em; text-align: right; }
th { background: #f3f3f3; } td.l, th.l { text-align: left; }
tr.paper td { color: #555; background: #fafafa; }
.note { color: #555; font-size: .9em; } img { max-width: 100%; }
.figs { display: flex; flex-wrap: wrap; gap: 1em; }
"""


def pm(figure: dict, scale: float = 100) -> str:
    """``mean +- sd`` in percent."""
    sd = f" ± {figure['sd'] * scale:.2f}" if figure.get("sd") is not None else ""
    return f"{figure['mean'] * scale:.2f}{sd}"


def png(fig) -> str:
    """A matplotlib figure as an <img> with the PNG inline."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    return f'<img alt="figure" src="data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}">'


def table(header: list[str], rows: list[list[str]], classes: list[str] | None = None, first_left: bool = True) -> str:
    """An HTML table; ``classes`` gives each row's CSS class."""
    def cell(tag, i, value):
        return f'<{tag}{" class=l" if first_left and i == 0 else ""}>{value}</{tag}>'

    head = "".join(cell("th", i, html.escape(h)) for i, h in enumerate(header))
    body = "".join(f'<tr{f" class={classes[n]}" if classes and classes[n] else ""}>'
                   + "".join(cell("td", i, v) for i, v in enumerate(row)) + "</tr>" for n, row in enumerate(rows))
    return f"<table><tr>{head}</tr>{body}</table>"


def coverage(experiment: dict) -> str:
    share = experiment["evaluated"] / max(1, experiment["listed"])
    return f"{experiment['evaluated']}/{experiment['listed']} ({share:.1%})"


def cite(summary: dict, row: dict) -> str:
    """A link to a published row's source."""
    source = summary["sources"].get(row["source"], {})
    name = html.escape(row["source"])
    return f'<a href="{html.escape(source["url"])}">{name}</a>' if source.get("url") else name


def paper_match(summary: dict, model: dict) -> dict | None:
    """The published supervised result of the same variant and backbone, if any."""
    for row in summary["paper"]:
        if (row.get("setting", "supervised") == "supervised" and row.get("variant") == model.get("variant")
                and row.get("backbone") == model.get("clip_model")):
            return row
    return None


def main_table(summary: dict) -> str:
    """Ours (mean ± sd over seeds of the mean over folds) beside the published supervised results."""
    rows, kinds = [], []
    for name, e in summary["experiments"].items():
        model = summary["classes"][name]["model"]
        match = paper_match(summary, model)
        uar, war = e["mean"]["uar"]["mean"] * 100, e["mean"]["war"]["mean"] * 100
        tunable = summary.get("tunable_parameters", {}).get(name)
        rows.append([f"<b>{html.escape(name)}</b> (ours)", model.get("variant", ""), model.get("clip_model", ""),
                     f"{tunable / 1e6:.2f}" if tunable else "-",
                     str(len(e["seeds"])), pm(e["mean"]["uar"]), pm(e["mean"]["war"]), coverage(e),
                     f"{pm(e['mean']['uar_evaluated'])} / {pm(e['mean']['war_evaluated'])}",
                     f"{match['uar']:.2f} / {match['war']:.2f}" if match else "-",
                     f"{uar - match['uar']:+.2f} / {war - match['war']:+.2f}" if match else "-"])
        kinds.append("")
    for r in summary["paper"]:
        if r.get("setting", "supervised") != "supervised":
            continue
        rows.append([f"{html.escape(r['method'])} ({cite(summary, r)})", r.get("variant") or "",
                     r.get("backbone") or "", str(r["tunable_params_m"]) if r.get("tunable_params_m") else "-", "-",
                     f"{r['uar']:.2f}", f"{r['war']:.2f}", "-", "-", "-", "-"])
        kinds.append("paper")
    note = "" if summary["paper"] else (f"<p class=note>No published result on {html.escape(summary['dataset'])} in "
                                        "resources/paper_results.yaml.</p>")
    return table(["method", "variant", "backbone", "tunable params (M)", "seeds", "UAR %", "WAR %",
                  "listed test clips evaluated",
                  "UAR / WAR % over evaluated clips only", "paper UAR / WAR %", "ours − paper"], rows, kinds) + note


def fold_table(experiment: dict) -> str:
    rows = [[html.escape(run), pm(r["uar"]), pm(r["war"]), f"{r['evaluated']}/{r['listed']}"]
            for run, r in experiment["per_run"].items()]
    rows += [[f"seed {s}: mean over folds", f"{f['uar'] * 100:.2f}", f"{f['war'] * 100:.2f}", ""]
             for s, f in experiment["per_seed"].items()]
    return table(["test group", "UAR % (± sd over seeds)", "WAR %", "evaluated/listed"], rows)


def recall_figure(classes: dict):
    import matplotlib.pyplot as plt

    names = list(classes)
    labels = classes[names[0]]["classes"]
    fig, ax = plt.subplots(figsize=(max(6, 0.9 * len(labels) * max(1, len(names) / 2)), 3.6))
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        values = [classes[name]["recall"][c] or 0.0 for c in labels]
        ax.bar(np.arange(len(labels)) + i * width - 0.4 + width / 2, values, width, label=name)
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    ax.set_ylim(0, 1)
    ax.set_ylabel("recall (mean over folds and seeds)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def curve_figure(name: str, runs: dict):
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.2))
    for run, records in sorted(runs.items()):
        epochs = [r["epoch"] for r in records]
        left.plot(epochs, [r["loss"] for r in records], label=run)
        if any("val_uar" in r for r in records):
            right.plot(epochs, [r.get("val_uar", np.nan) for r in records], label=run)
        elif any("val_info_nce" in r for r in records):
            right.plot(epochs, [r.get("val_info_nce", np.nan) for r in records], label=run)
    captions = any("val_info_nce" in r for records in runs.values() for r in records)
    left.set(title=f"{name}: training loss", xlabel="epoch")
    if captions:
        right.set(title=f"{name}: validation InfoNCE (the lowest chooses best.pt)", xlabel="epoch")
    else:
        right.set(title=f"{name}: validation UAR (chooses best.pt)", xlabel="epoch", ylim=(0, 1))
    right.legend(fontsize=7)
    fig.tight_layout()
    return fig


def preprocessing_figure(pre: dict):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 4, figsize=(15, 3.2))
    groups = pre["groups"]
    names = list(groups)
    axes[0].bar(names, [groups[g]["packed"] for g in names], label="packed")
    axes[0].bar(names, [groups[g]["failed"] for g in names], bottom=[groups[g]["packed"] for g in names],
                label="failed")
    axes[0].set(title="clips per group")
    axes[0].legend(fontsize=8)
    reasons = pre["failure_reasons"]
    if reasons:
        axes[1].barh(list(reasons), list(reasons.values()))
        axes[1].tick_params(axis="y", labelsize=7)
    else:
        axes[1].text(0.5, 0.5, "no failures", ha="center", va="center", transform=axes[1].transAxes)
        axes[1].set_axis_off()
    axes[1].set(title="failures by reason")
    for ax, key, title in ((axes[2], "frames_per_clip", "stored frames per clip"),
                           (axes[3], "landmark_detection_rate", "frames with landmarks, per clip")):
        hist = pre.get(key, {}).get("histogram")
        if hist:
            edges = np.array(hist["edges"])
            ax.bar(edges[:-1], hist["counts"], width=np.diff(edges), align="edge")
        ax.set(title=title, ylabel="clips")
    fig.tight_layout()
    return fig


def figure_cell(figures: dict | None) -> list[str]:
    """UAR and WAR cells of one dataset (ours: mean ± sd over seeds, with coverage; the paper's: as printed)."""
    if figures is None:
        return ["-", "-"]
    if "mean" in figures:
        return [f"{pm(figures['mean']['uar'])}<br><small>{coverage(figures)}</small>", pm(figures["mean"]["war"])]
    return [f"{figures['uar']:.2f}", f"{figures['war']:.2f}"]


def table3_section(summary: dict) -> str:
    """Zero-shot, as the paper's Table 3 measures it: caption pre-training without labels, then the label
    texts of each dataset on its listed test clips; ours beside every row of the published table."""
    ours = summary["zero_shot"]
    columns = list(TABLE3_DATASETS) + sorted({d for z in ours.values() for d in z["on"]} - set(TABLE3_DATASETS))
    rows, kinds = [], []
    for name, z in ours.items():
        kind = CAPTION_KINDS.get(z.get("captions"), z.get("captions"))
        rows.append([f"<b>{html.escape(name)}</b> (ours)", html.escape(z.get("model", {}).get("clip_model", "")),
                     html.escape(f"{z['dataset']} ({kind} caption)"),
                     *[c for d in columns for c in figure_cell(z["on"].get(d))]])
        kinds.append("")
    for r in summary["paper_table3"]:
        pretraining = r.get("pretraining") or f"{r.get('train_on')} ({r.get('captions')} caption)"
        backbone = r.get("backbone") or r.get("backbone_as_stated") or ""
        rows.append([f"{html.escape(r['method'])} ({cite(summary, r)})", html.escape(backbone),
                     html.escape(str(pretraining)), *[c for d in columns for c in figure_cell(r["on"].get(d))]])
        kinds.append("paper")
    header = ["method", "backbone", "pre-training dataset"] + [f"{d} {m} %" for d in columns for m in ("UAR", "WAR")]
    note = ("<p class=note>Caption pre-training reads no label: each clip's video vector against its caption "
            "(symmetric InfoNCE); then each dataset's label texts score its listed test clips (a clip lost in "
            "preprocessing counts as wrong). On the pre-training dataset itself each fold pre-trains on that fold's "
            "training groups only. Video caption: the dataset's own captions (MAFW's); fine-grained caption: the "
            "describe stage's refined description.</p>")
    if not ours:
        note += ("<p class=note>No caption pre-training experiment in this run (<code>train.objective: "
                 "captions</code>); the published rows alone.</p>")
    return note + table(header, rows, kinds)


def cross_dataset_section(summary: dict) -> str:
    """Supervised models scored on other datasets' test clips: cross-dataset transfer, no published peer."""
    if not summary["cross_dataset"]:
        return "<p class=note>No other dataset configured (<code>train.cross_dataset</code>).</p>"
    rows = [[f"{html.escape(name)} (ours)", html.escape(target), str(len(e["seeds"])), pm(e["mean"]["uar"]),
             pm(e["mean"]["war"]), coverage(e)]
            for target, experiments in summary["cross_dataset"].items() for name, e in experiments.items()]
    note = ("<p class=note>A model trained with {ds}'s labels, scored on another dataset's test clips with that "
            "dataset's label texts. This is not zero-shot (the model learnt emotion labels), so it is not set "
            "beside the paper's Table 3.</p>").format(ds=html.escape(summary["dataset"]))
    return note + table(["trained on " + html.escape(summary["dataset"]), "tested on", "seeds", "UAR %", "WAR %",
                         "listed test clips evaluated"], rows)


def render(summary: dict) -> str:
    """The whole page."""
    pre = summary["preprocessing"]
    parts = [f"<h1>FineCLIPER on {html.escape(summary['dataset'])}</h1>",
             "<p class=note>UAR: mean per-class recall; WAR: accuracy. Every listed test clip counts: one lost in "
             "preprocessing is scored as wrong. Ours: the mean over folds per seed, then mean ± standard deviation "
             "over seeds; the checkpoint is chosen on a validation share of the training groups, never on the test "
             "fold.</p>",
             "<h2>Ours beside the paper</h2>", main_table(summary)]
    for name, e in summary["experiments"].items():
        parts += [f"<h3>{html.escape(name)}: per test group</h3>", fold_table(e)]
    if not summary["classes"]:  # an unlabelled dataset, pre-trained on and scored on others only
        parts.append(f"<p class=note>No test clip of {html.escape(summary['dataset'])} is scored (it has no labels): "
                     "its models are scored on the other datasets below.</p>")
    parts += ["<h2>Per-class recall</h2>", png(recall_figure(summary["classes"])) if summary["classes"] else "",
              "<h2>Confusion matrices</h2>",
              "<p class=note>Summed over folds and seeds, rows normalised; a (missing) column counts listed clips "
              "without a prediction.</p><div class=figs>"]
    for name, c in summary["classes"].items():
        parts.append(png(confusion_figure(c["classes"], c["confusion"], c["missing"], name)))
    parts.append("</div><h2>Training and validation</h2>")
    parts += [png(curve_figure(name, runs)) for name, runs in summary["curves"].items()]
    parts += ["<h2>Zero-shot (the paper's Table 3)</h2>", table3_section(summary),
              "<h2>Cross-dataset transfer</h2>", cross_dataset_section(summary), "<h2>Preprocessing</h2>",
              f"<p>{pre['packed']} of {pre['videos']} clips packed, {pre['failed']} failed; face detector: "
              f"{html.escape(', '.join(f'{k} {v}' for k, v in pre.get('face_detector', {}).items()))}; "
              f"unreadable frames skipped: {pre.get('unreadable_frames', 0)}.</p>",
              png(preprocessing_figure(pre))]
    return ("<!doctype html><html><head><meta charset=utf-8>"
            f"<title>FineCLIPER report: {html.escape(summary['dataset'])}"
            f"</title><style>{STYLE}</style></head><body>{''.join(parts)}</body></html>")
