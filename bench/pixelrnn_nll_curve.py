"""Test NLL of PixelRNN/PixelCNN against training time, through the recipe.

    python bench/pixelrnn_nll_curve.py --preset=pixelcnn_mnist --epochs=6 --steps_per_epoch=300

Runs ``recipes/pixelrnn.py`` one epoch at a time (``--epochs=1``, then 2, ...:
each run resumes from the previous one's checkpoint, as after a kill), and
after each scores the export's SavedModel ``log_prob`` on the test split
(``zoo.evaluate --likelihood``). Training seconds are the checkpoint's own
count (``seconds_total`` in the export's metadata: time in ``fit``, not
process start, tracing of the export or scoring). The last export is the
model a single ``python recipes/pixelrnn.py ... --epochs=N`` run gives, since
resume loses no step. Prints a table and writes
``bench/results/pixelrnn_nll_<preset>.json``.
"""

import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

# The paper's test NLL (van den Oord et al. 2016, Tables 4 and 5).
PAPER = {
    "diagonal_bilstm_mnist": 79.20, "row_lstm_mnist": None, "pixelcnn_mnist": 81.30,
    "diagonal_bilstm_cifar10": 3.00, "row_lstm_cifar10": 3.07, "pixelcnn_cifar10": 3.14,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="pixelcnn_mnist")
    parser.add_argument("--epochs", type=int, default=6, help="points on the curve (one per epoch)")
    parser.add_argument("--steps_per_epoch", type=int, default=300)
    parser.add_argument("--data_dir", default="../shared/datasets", help="relative paths are from the repository root")
    parser.add_argument("--logdir", default=None, help="default: runs/<preset>")
    parser.add_argument("--export_dir", default=None, help="default: savedmodels/<preset>")
    parser.add_argument("--test_images", type=int, default=None,
                        help="score a fixed random N test images at each point before the last (default: all); "
                        "the last point is scored on --final_test_images")
    parser.add_argument("--final_test_images", type=int, default=None,
                        help="score a fixed random N test images at the last point (default: all; the "
                        "recurrent CIFAR-10 models take a second or more per image on a CPU)")
    parser.add_argument("--grid_images", type=int, default=16,
                        help="samples drawn at the end (samples.png); 0: none (a CIFAR-10 grid re-runs "
                        "the network 3,072 times)")
    parser.add_argument("--output", default=None)
    args = parser.parse_args()

    from zoo.evaluate import evaluate_likelihood
    from zoo.export import load_metadata
    import zoo

    # Paths as given go into the recipe's command line (run from the
    # repository root, so that the export records a command a user can
    # type there); this process reads them from the root too.
    logdir = args.logdir or f"runs/{args.preset}"
    export_arg = args.export_dir or f"savedmodels/{args.preset}"
    export_dir = os.path.join(REPO, export_arg)
    data_dir = os.path.join(REPO, args.data_dir)
    output = args.output or os.path.join(HERE, "results", f"pixelrnn_nll_{args.preset}.json")
    dataset = zoo.get("pixelrnn").preset_config(args.preset)["training"]["dataset"]
    rows = []
    for epoch in range(1, args.epochs + 1):
        command = [
            sys.executable, os.path.join("recipes", "pixelrnn.py"), f"--preset={args.preset}",
            f"--data_dir={args.data_dir}", f"--epochs={epoch}", f"--steps_per_epoch={args.steps_per_epoch}",
            f"--logdir={logdir}", f"--export_dir={export_arg}", "--verbose=2",
            "--sample_every=-1",  # no per-epoch grid (minutes of sampling); one at the end below
        ]
        subprocess.run(command, check=True, cwd=REPO)  # the recorded command reads as a user types it
        metadata = load_metadata(export_dir)
        final_point = epoch == args.epochs
        scores = evaluate_likelihood(export_dir, dataset, data_dir, "test",
                                     num_images=args.final_test_images if final_point else args.test_images)
        unit = "nats_per_image" if scores["levels"] == 2 else "bits_per_dim"
        rows.append({
            "epoch": epoch, "step": epoch * args.steps_per_epoch, "seconds": metadata["seconds_total"],
            "test_" + unit: scores[unit], "test_images": scores["num_images"],
        })
        print(f"{args.preset}: step {rows[-1]['step']:6d}  {rows[-1]['seconds']:7.0f} s  "
              f"test {scores[unit]:.3f} {unit}", flush=True)

    # The last (whole test split) scores, as `zoo.evaluate --likelihood`
    # writes them, for the export's model card.
    scores["model"] = export_arg
    subset = f" --num_images {args.final_test_images}" if args.final_test_images else ""
    scores["command"] = (f"python -m zoo.evaluate --likelihood {export_arg} "
                         f"--dataset {dataset} --data_dir {args.data_dir}{subset}")
    scores["training_command"] = metadata["command"]
    with open(os.path.join(export_dir, "scores.json"), "w") as f:
        json.dump(scores, f, indent=2)

    # One sample grid from the final export's SavedModel (the whole
    # pixel-by-pixel loop in one call), saved beside it.
    import time

    import numpy as np
    import tensorflow as tf

    from zoo.training.callbacks import image_grid, save_png

    grid_seconds = None
    if args.grid_images:
        sample = tf.saved_model.load(os.path.join(export_dir, "saved_model")).signatures["sample"]
        started = time.perf_counter()
        values = sample(num_images=tf.constant(args.grid_images), seed=tf.constant(0))["values"].numpy()
        grid_seconds = round(time.perf_counter() - started, 1)
        levels = scores["levels"]
        save_png(os.path.join(export_dir, "samples.png"),
                 image_grid((values.astype(np.float32) * (255.0 / (levels - 1))).round().astype(np.uint8)))
        print(f"{args.grid_images} samples in {grid_seconds:.0f} s -> {export_dir}/samples.png")

    paper = PAPER.get(args.preset)
    final_nll = rows[-1]["test_" + unit]
    print(f"\n| step | training seconds | test {unit} | test images |\n|---:|---:|---:|---:|")
    for row in rows:
        print(f"| {row['step']} | {row['seconds']:.0f} | {row['test_' + unit]:.3f} | {row['test_images']} |")
    if paper:
        print(f"paper: {paper} ({unit}); gap {final_nll - paper:+.3f}")
    os.makedirs(os.path.dirname(output), exist_ok=True)
    with open(output, "w") as f:
        json.dump({"command": "python " + " ".join(sys.argv), "preset": args.preset, "unit": unit,
                   "paper": paper, "batch_size": metadata["batch_size"], "hardware": metadata.get("hardware"),
                   "grid_images": args.grid_images, "grid_seconds": grid_seconds,
                   "rows": rows}, f, indent=2)
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
