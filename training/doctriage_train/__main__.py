"""`python -m doctriage_train all|data|v24` — regenerate the data and retrain every shipped model
(`v24`: only doc-classifier 2.4, over the doc-classifier 2.3 already exported in --models)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

from doctriage_train.dataset import PRESETS, build

# Sleeping (not spinning) OpenMP workers: on a busy 2-core machine spinning threads cost 2x.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="doctriage_train")
    parser.add_argument("command", choices=["all", "data", "v24"])
    parser.add_argument("--preset", choices=sorted(PRESETS), default="full")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", type=Path, default=Path("var/training-data"))
    parser.add_argument("--models", type=Path, default=Path("models"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--rebuild", action="store_true", help="regenerate the data even when it is up to date")
    parser.add_argument("--no-real-docs", action="store_true")
    parser.add_argument("--no-ocr", action="store_true", help="skip tesseract on real documents without text")
    parser.add_argument(
        "--rule-file",
        type=Path,
        default=Path("config/acceptance-rule.json"),
        help="where v2.4's acceptance rule, proven on out-of-fold scores, is written",
    )
    args = parser.parse_args(argv)
    data_cfg = replace(PRESETS[args.preset], seed=args.seed)
    if args.command == "data":
        build(data_cfg, args.data, workers=args.workers)
        return 0
    from doctriage_train import realdocs
    from doctriage_train.config import TrainConfig
    from doctriage_train.pipeline import run

    cfg = TrainConfig(seed=args.seed)
    if args.epochs is not None:
        cfg = replace(cfg, epochs=args.epochs, lite_epochs=args.epochs)
    t0 = time.time()
    real = photos = None
    if not args.no_real_docs:
        roots = realdocs.default_roots()
        if not roots:
            print(
                "real documents: ../shared/real-train and ../shared/real-docs not found (or $DOCTRIAGE_REAL_DOCS): "
                "v2.4 is trained and calibrated on synthetic pages only and no acceptance rule is proven; "
                "the shipped models are built with them",
                file=sys.stderr,
                flush=True,
            )
        else:
            with_ocr = not args.no_ocr
            real = realdocs.load(
                roots, with_ocr=with_ocr, ocr_cache=args.data.parent / "realdocs-ocr.json", workers=args.workers
            )
            if real is not None:
                photos = realdocs.photos(
                    real,
                    shots=cfg.photo_shots,
                    with_ocr=with_ocr,
                    ocr_cache=args.data.parent / "realphotos-ocr.json",
                    workers=args.workers,
                )
            print(
                f"real documents: {', '.join(str(r) for r in roots)}: {0 if real is None else len(real.y)} read, "
                f"{0 if real is None else len(real.failed)} not decodable, "
                f"{0 if photos is None else len(photos.y)} simulated photos ({time.time() - t0:.0f}s)",
                flush=True,
            )
    if args.command == "v24":
        from doctriage_train.dataset import Dataset
        from doctriage_train.fusion import onnx_image_outputs, train_v24

        ds = Dataset.load(args.data)
        if ds.digest != data_cfg.digest():
            print(f"{args.data} holds other data than --preset/--seed describe: run `data` first", file=sys.stderr)
            return 1
        v23 = args.models / "doc-classifier" / "2.3" / "model.onnx"
        image = onnx_image_outputs(v23, ds.x)
        real_image = onnx_image_outputs(v23, real.x) if real is not None else None
        photo_image = onnx_image_outputs(v23, photos.x) if photos is not None else None
        quality = train_v24(
            ds,
            image,
            args.models,
            cfg,
            data_cfg,
            real=real,
            real_image=real_image,
            workers=args.workers,
            photos=photos,
            photo_image=photo_image,
            rule_file=args.rule_file,
        )
        (args.data / "summary-v24.json").write_text(json.dumps(quality, indent=1))
        return 0
    summary = run(
        args.data,
        args.models,
        cfg,
        data_cfg,
        real=real,
        workers=args.workers,
        log=lambda s: print(s, flush=True),
        rebuild=args.rebuild,
        photos=photos,
        rule_file=args.rule_file,
    )
    (args.data / "summary.json").write_text(json.dumps(summary, indent=1))
    print(f"done in {time.time() - t0:.0f}s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
