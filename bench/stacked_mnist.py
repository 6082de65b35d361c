"""Mode collapse on Stacked MNIST: DCGAN with and without the zoo's techniques.

    python bench/stacked_mnist.py --data_dir=../shared/datasets
    python bench/stacked_mnist.py --data_dir=../shared/datasets --runs=dcgan,unrolled --seeds=0,1,2

Every run trains ``dcgan_stacked_mnist_small`` (Metz et al. 2016's setting:
small networks, the discriminator a quarter of the generator's width, where
the papers' DCGAN collapses) with one technique added, through the recipe
a user runs (``python recipes/dcgan.py --preset=P ...``), then counts the modes its
generator covers with ``python -m zoo.evaluate --stacked_mnist`` (26,000
samples read by the shipped MNIST classifier; modes of 1,000 and the KL
divergence of the mode histogram to uniform, ``zoo.metrics.modes``).

Prints a Markdown table (README's) and writes
``bench/results/stacked_mnist/techniques.json`` with each run's commands,
so every number can be reproduced alone. A killed bench resumes: each run's
recipe restarts from its last checkpoint in ``runs/bench_stacked_mnist``.
"""

import argparse
import json
import os
import shlex
import statistics
import sys

# The scoreboard's runner: a command's output to a log file, its wall time
# returned, a RuntimeError naming the log if it fails. (bench/ is on
# sys.path when this file runs as a script.)
from scoreboard import REPO, run
RESULTS = os.path.join(REPO, "bench", "results", "stacked_mnist", "techniques.json")

# name: (label, preset, extra recipe flags)
RUNS = {
    "dcgan": ("DCGAN", "dcgan_stacked_mnist_small", []),
    "unrolled": ("+ unrolled discriminator, 5 steps (Metz et al. 2016)",
                 "dcgan_stacked_mnist_small", ["--unrolled_steps=5"]),
    "minibatch": ("+ minibatch discrimination (Salimans et al. 2016)",
                  "dcgan_stacked_mnist_small_mbd", []),
    "spectral_norm": ("+ spectral norm in D, no batch norm (Miyato et al. 2018)",
                      "dcgan_stacked_mnist_small_sn", []),
    "diffaugment": ("+ DiffAugment color,translation (Zhao et al. 2020)",
                    "dcgan_stacked_mnist_small", ["--augment=color,translation"]),
}


def train_and_count(name, seed, args):
    label, preset, flags = RUNS[name]
    logdir = os.path.join(args.workdir, f"{name}_seed{seed}")
    export = os.path.join(logdir, "export")
    os.makedirs(logdir, exist_ok=True)
    train = [
        sys.executable, "recipes/dcgan.py", f"--preset={preset}", *flags,
        f"--data_dir={args.data_dir}", f"--epochs={args.epochs}", f"--seed={seed}",
        "--sample_every=-1", f"--logdir={logdir}", f"--export_dir={export}", "--verbose=2",
    ]
    seconds = run(train, os.path.join(logdir, "train.log"))
    scores_file = os.path.join(logdir, "modes.json")
    count = [
        sys.executable, "-m", "zoo.evaluate", "--stacked_mnist", export,
        "--data_dir", args.data_dir, "--output", scores_file,
    ]
    run(count, os.path.join(logdir, "evaluate.log"))
    with open(scores_file) as f:
        scores = json.load(f)
    with open(os.path.join(export, "metadata.json")) as f:
        metadata = json.load(f)
    return {
        "run": name, "technique": label, "preset": preset, "seed": seed,
        "modes": scores["modes"], "kl_to_uniform": scores["kl_to_uniform"],
        "steps": metadata["final_step"], "training_seconds": metadata["seconds_total"],
        "wall_seconds": round(seconds, 1),
        "training_command": "python " + shlex.join(train[1:]),
        "command": "python " + shlex.join(count[1:]),
    }


def summary(rows):
    """Mean (and sample standard deviation over seeds) of modes and KL."""
    def spread(values, digits):
        if len(values) == 1:
            return f"{values[0]:.{digits}f}"
        return f"{statistics.mean(values):.{digits}f} ± {statistics.stdev(values):.{digits}f}"

    modes = [r["modes"] for r in rows]
    kl = [r["kl_to_uniform"] for r in rows]
    return spread(modes, 0 if len(rows) == 1 else 1), spread(kl, 2)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data_dir", default="../shared/datasets")
    parser.add_argument("--runs", default=",".join(RUNS), help=f"comma-separated, of {', '.join(RUNS)}")
    parser.add_argument("--seeds", default="0", help="comma-separated training seeds")
    parser.add_argument("--epochs", type=int, default=10, help="epochs of 100,000 stacks at batch 128")
    parser.add_argument("--workdir", default=os.path.join("runs", "bench_stacked_mnist"))
    parser.add_argument("--output", default=RESULTS)
    args = parser.parse_args()
    names = [n for n in args.runs.split(",") if n]
    unknown = [n for n in names if n not in RUNS]
    if unknown:
        parser.error(f"unknown run(s) {', '.join(unknown)}; choose from {', '.join(RUNS)}")
    try:
        seeds = [int(s) for s in args.seeds.split(",")]
    except ValueError:
        parser.error(f"--seeds takes whole numbers, got {args.seeds!r}")

    rows = []
    # Seeds outermost, so that an interrupted bench has every technique at
    # the first seed before any at the second.
    for seed in seeds:
        for name in names:
            try:
                row = train_and_count(name, seed, args)
            except RuntimeError as error:
                sys.exit(str(error))
            rows.append(row)
            print(f"{name} seed {seed}: {row['modes']} modes, KL {row['kl_to_uniform']:.3f} "
                  f"({row['training_seconds']:.0f} s of training)", flush=True)

    print(f"\n| technique (`dcgan_stacked_mnist_small`, {args.epochs} epochs, "
          f"seeds {args.seeds}) | modes (of 1,000) | KL to uniform |")
    print("|---|---:|---:|")
    for name in names:
        modes, kl = summary([r for r in rows if r["run"] == name])
        print(f"| {RUNS[name][0]} | {modes} | {kl} |")

    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, "w") as f:
        json.dump({
            "command": shlex.join(["python", "bench/stacked_mnist.py", *sys.argv[1:]]),
            "epochs": args.epochs, "seeds": seeds, "rows": rows,
        }, f, indent=2)
    print(f"\nwrote {os.path.relpath(args.output, REPO)}")


if __name__ == "__main__":
    main()
