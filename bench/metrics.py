"""Benchmark the evaluation pipeline on CPU: feature throughput and the cost of a 10k-sample FID.

    python bench/metrics.py                      # full: FID over 10,000 images, measured
    python bench/metrics.py --fid_samples 1000   # measured on 1,000, extrapolated to 10,000

Prints a table and writes ``bench/results/metrics.json``. Measured:

* FID Inception features per second (uint8 28x28x1 input, so the timing
  includes gray-to-RGB and the resize to 299), at each ``--batch_sizes``;
* domain-classifier features per second (batch 256), where one is shipped;
* the metric formulas on 10,000 x 2048 features (float64): Gaussian
  statistics + Fréchet distance, KID (100 subsets of 1000), precision/recall;
* "FID over N samples": Inception features of N images plus the FID
  formula, real statistics assumed cached (as ``zoo.evaluate`` does).
  If N < 10,000 the 10,000 figure is extrapolated linearly in the feature
  part and says so in the table and the JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import zoo  # noqa: E402,F401  (before TensorFlow: turns oneDNN on)

import numpy as np  # noqa: E402

from zoo.metrics.features import inception_extractor  # noqa: E402
from zoo.metrics.frechet import frechet_distance, gaussian_statistics  # noqa: E402
from zoo.metrics.kid import kernel_inception_distance  # noqa: E402
from zoo.metrics.precision_recall import precision_recall  # noqa: E402

FULL = 10_000


def _images(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, 28, 28, 1), dtype=np.uint8)


def _throughput(extractor, batch_size: int, num_images: int) -> float:
    images = _images(num_images)
    extractor(images[:batch_size], batch_size=batch_size)  # trace and warm up
    started = time.perf_counter()
    extractor(images, batch_size=batch_size)
    return num_images / (time.perf_counter() - started)


def _timed(fn):
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch_sizes", default="16,64")
    parser.add_argument("--throughput_images", type=int, default=256)
    parser.add_argument("--fid_samples", type=int, default=FULL)
    parser.add_argument("--output", default=str(Path(__file__).parent / "results" / "metrics.json"))
    args = parser.parse_args(argv)
    load_at_start = os.getloadavg()[0]

    rows = []
    inception = inception_extractor()
    for batch_size in [int(b) for b in args.batch_sizes.split(",")]:
        rate = _throughput(inception, batch_size, args.throughput_images)
        rows.append({"what": f"Inception features/s, batch {batch_size}", "value": rate, "unit": "images/s"})

    from zoo.metrics.classifier import classifier_extractor, shipped_classifier_path
    if shipped_classifier_path("mnist").exists():
        rate = _throughput(classifier_extractor("mnist"), 256, 10 * 256)
        rows.append({"what": "MNIST classifier features/s, batch 256", "value": rate, "unit": "images/s"})

    rng = np.random.default_rng(0)
    real = np.abs(rng.standard_normal((FULL, 2048))).astype(np.float32)
    fake = np.abs(rng.standard_normal((FULL, 2048))).astype(np.float32) * 1.1
    real_mu, real_sigma = gaussian_statistics(real)
    fid_seconds = _timed(lambda: frechet_distance(*gaussian_statistics(fake), real_mu, real_sigma))
    rows.append({"what": "FID formula, 10k x 2048 (stats + distance)", "value": fid_seconds, "unit": "s"})
    rows.append({"what": "KID, 10k x 2048, 100 subsets of 1000",
                 "value": _timed(lambda: kernel_inception_distance(fake, real)), "unit": "s"})
    rows.append({"what": "precision/recall, 10k x 2048, k=3",
                 "value": _timed(lambda: precision_recall(real, fake)), "unit": "s"})

    n = args.fid_samples
    batch = max(int(b) for b in args.batch_sizes.split(","))
    feature_seconds = _timed(lambda: inception(_images(n, seed=1), batch_size=batch))
    measured = n >= FULL
    total = feature_seconds * FULL / n + fid_seconds
    rows.append({"what": f"FID over {FULL} samples ({'measured' if measured else f'extrapolated from {n}'})",
                 "value": total, "unit": "s"})

    width = max(len(r["what"]) for r in rows)
    print(f"{'measurement':<{width}}  {'value':>10}  unit")
    for r in rows:
        print(f"{r['what']:<{width}}  {r['value']:>10.2f}  {r['unit']}")
    result = {
        "rows": rows,
        "fid_samples_measured": n,
        "fid_extrapolated": not measured,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS")},
        # Other jobs on the machine slow every figure down; this says how busy it was.
        "load_average_1min_at_start": load_at_start,
    }
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
