"""The ``fineclipper`` command: demo-data, manifest, inspect, predict."""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from .errors import json_argument, run_command


def cmd_demo_data(args: argparse.Namespace) -> None:
    from .config import load_config
    from .datasets.demo import write_demo

    cfg = load_config(overrides={"demo": json_argument(args.config, "--config")})["demo"]
    try:
        Path(args.out).mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OSError(f"--out {args.out}: cannot make the folder ({e.strerror})") from None
    rows = write_demo(cfg, args.out, workers=args.workers, name=args.name)
    counts = Counter((r["group"], r["label_name"]) for r in rows)
    print(f"wrote {len(rows)} clips to {args.out}: "
          + ", ".join(f"{g}/{c}={n}" for (g, c), n in sorted(counts.items())))


def cmd_manifest(args: argparse.Namespace) -> None:
    from .datasets.foldlists import SPECS, read_fold_lists

    rows, stats = read_fold_lists(SPECS[args.dataset], args.annotations, args.root)
    groups = Counter(r["group"] for r in rows)
    print(json.dumps({"stats": stats, "groups": dict(sorted(groups.items()))}, indent=2))
    if args.out:
        import pyarrow as pa

        from .io import write_table

        write_table(args.out, pa.Table.from_pylist(rows))
        print(f"wrote {args.out}")


def cmd_inspect(args: argparse.Namespace) -> None:
    import tarfile

    from .inspect import contact_sheet, describe_raw
    from .shards import decode_sample, iter_raw

    if not Path(args.shard).is_file():
        raise FileNotFoundError(f"shard not found: {args.shard}")
    if not tarfile.is_tarfile(args.shard):
        raise ValueError(f"{args.shard} is not a shard (not a tar file)")
    shown = 0
    for raw in iter_raw(args.shard):
        if args.key and raw["__key__"] != args.key:
            continue
        print(describe_raw(raw))
        if args.sheet:
            sheet_path = Path(args.sheet)
            if args.count > 1:
                sheet_path = sheet_path.with_name(f"{sheet_path.stem}-{raw['__key__']}{sheet_path.suffix}")
            contact_sheet(decode_sample(raw), sheet_path)
            print(f"contact sheet: {sheet_path}")
        shown += 1
        if shown >= args.count:
            break
    if not shown:
        raise ValueError(f"{args.shard}: no sample" + (f" with key {args.key!r}" if args.key else ""))


def cmd_predict(args: argparse.Namespace) -> None:
    from .predict import run_predict

    run_predict(args)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="fineclipper", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo-data", help="render the demo dataset's clips")
    p.add_argument("--out", required=True, help="folder for the videos")
    p.add_argument("--config", default="{}", help="demo settings as JSON (see the config schema's demo section)")
    p.add_argument("--workers", type=int, default=1, help="processes rendering clips in parallel")
    p.add_argument("--name", default="demo", help="dataset name written into the rows")
    p.set_defaults(func=cmd_demo_data)

    p = sub.add_parser("manifest", help="read DFER-CLIP fold lists and report what they hold")
    p.add_argument("dataset", choices=["dfew", "ferv39k", "mafw"])
    p.add_argument("--annotations", required=True, help="folder with the fold lists")
    p.add_argument("--root", default="DATA_ROOT", help="your copy of the dataset folder")
    p.add_argument("--out", help="write the manifest as Parquet")
    p.set_defaults(func=cmd_manifest)

    p = sub.add_parser("inspect", help="print what a shard's samples hold; optionally draw a contact sheet")
    p.add_argument("shard")
    p.add_argument("--key", help="only the sample with this key")
    p.add_argument("--count", type=int, default=1, help="how many samples to show")
    p.add_argument("--sheet", help="write a contact-sheet PNG (frames, masks, landmarks)")
    p.set_defaults(func=cmd_inspect)

    p = sub.add_parser("predict", help="a trained checkpoint on new videos: top classes and a description per clip")
    p.add_argument("--checkpoint", required=True, help="best.pt of a training run (it records its preprocessing)")
    p.add_argument("videos", nargs="+", metavar="VIDEO_OR_FOLDER",
                   help="video files, folders of frame images (one clip each) or folders of videos")
    p.add_argument("--out", help="write the predictions as CSV (or JSON, for a .json name)")
    p.add_argument("--top-k", type=int, default=3, help="classes shown per clip")
    p.add_argument("--sheet", help="folder for a contact sheet per clip, with a bar chart of its probabilities")
    p.add_argument("--batch-size", type=int, default=8, help="clips preprocessed and run together")
    p.add_argument("--classes", help="score these class names instead of the trained ones, comma-separated "
                                     "(\"boredom,confusion,pain\"; open vocabulary, through the label-text templates)")
    p.set_defaults(func=cmd_predict)

    args = parser.parse_args(argv)
    run_command(f"fineclipper {args.command}", args.func, args)


if __name__ == "__main__":
    main()
