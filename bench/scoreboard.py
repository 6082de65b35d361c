"""Train every architecture's MNIST preset on a fixed budget and score it.

    python bench/scoreboard.py --data_dir=../shared/datasets/mnist
    python bench/scoreboard.py --data_dir=../shared/datasets/mnist --presets=dcgan_mnist,wgan_mnist

For each preset: ``python recipes/<arch>.py --preset=P --epochs=1
--steps_per_epoch=STEPS --batch_size=BATCH`` (the same recipe a user runs,
seed 0), then ``python -m zoo.evaluate`` on the exported generator against
the MNIST test split: FID with the standard Inception network on
``--fid_samples`` samples, and classifier FID / classifier score with the
shipped MNIST classifier on ``--classifier_samples`` samples. Prints a
Markdown table (the README's), writes ``bench/results/scoreboard.json``.
Every row's command is in the JSON, so each number can be reproduced alone.
"""

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(REPO, "bench", "results", "scoreboard.json")

PAPERS = {
    "gan": "Goodfellow et al. 2014",
    "cgan": "Mirza & Osindero 2014",
    "dcgan": "Radford et al. 2015",
    "aae": "Makhzani et al. 2015",
    "ebgan": "Zhao et al. 2016",
    "lsgan": "Mao et al. 2017",
    "wgan": "Arjovsky et al. 2017",
    "wgan_gp": "Gulrajani et al. 2017",
    "sngan": "Miyato et al. 2018",
}


def default_presets():
    import zoo

    presets = []
    for name in zoo.names():
        mnist = [p for p in zoo.get(name).presets if p.endswith("_mnist")]
        if mnist:
            presets.append((name, mnist[0]))
    return presets


def run(command, log):
    started = time.time()
    with open(log, "w") as f:
        result = subprocess.run(command, cwd=REPO, stdout=f, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed; see {log}")
    return time.time() - started


def score(architecture, preset, args):
    out = os.path.join(args.workdir, preset)
    # A fresh run: a checkpoint left by an earlier (perhaps killed) run would
    # be resumed by the recipe and the row would not be what its command says.
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    train = [
        sys.executable, f"recipes/{architecture}.py", f"--preset={preset}",
        "--dataset=mnist", f"--data_dir={args.data_dir}", "--epochs=1",
        f"--steps_per_epoch={args.steps}", f"--batch_size={args.batch_size}",
        f"--logdir={out}/run", f"--export_dir={out}/export", "--verbose=2",
    ]
    train_seconds = run(train, os.path.join(out, "train.log"))
    with open(f"{out}/export/metadata.json") as f:
        metadata = json.load(f)
    real_batches_per_step = metadata.get("real_batches_per_step", 1)
    generator_updates = metadata.get("generator_updates", metadata.get("step"))
    scores = {}
    for networks, samples in (("classifier", args.classifier_samples), ("inception", args.fid_samples)):
        if not samples:
            continue
        evaluate = [
            sys.executable, "-m", "zoo.evaluate", f"--generator={out}/export/generator.keras",
            "--dataset=mnist", f"--data_dir={args.data_dir}", f"--num_samples={samples}",
            f"--networks={networks}", f"--output={out}/{networks}.json",
        ]
        run(evaluate, os.path.join(out, f"evaluate_{networks}.log"))
        with open(f"{out}/{networks}.json") as f:
            scores[networks] = json.load(f)
        scores[networks]["command"] = " ".join(shlex.quote(a) for a in evaluate)
    return {
        "architecture": architecture,
        "preset": preset,
        "paper": PAPERS.get(architecture, ""),
        "steps": args.steps,
        "generator_updates": generator_updates,
        "batch_size": args.batch_size,
        "real_batches_per_step": real_batches_per_step,
        "train_seconds": round(train_seconds, 1),
        "train_command": " ".join(shlex.quote(a) for a in train),
        "fid": scores.get("inception", {}).get("fid"),
        "fid_samples": args.fid_samples,
        "classifier_fid": scores.get("classifier", {}).get("classifier_fid"),
        "classifier_score": scores.get("classifier", {}).get("classifier_score_mean"),
        "classifier_samples": args.classifier_samples,
        "scores": scores,
    }


def table(rows):
    lines = [
        "| architecture | paper | preset | FID (Inception) | classifier FID | classifier score | train time |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        fid = f"{r['fid']:.1f}" if r["fid"] is not None else "-"
        cfid = f"{r['classifier_fid']:.2f}" if r["classifier_fid"] is not None else "-"
        cscore = f"{r['classifier_score']:.2f}" if r["classifier_score"] is not None else "-"
        lines.append(
            f"| {r['architecture']} | {r['paper']} | `{r['preset']}` | {fid} | {cfid} | {cscore} | {r['train_seconds'] / 60:.1f} min |"
        )
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data_dir", default=None, help="local MNIST (IDX files); default: TFDS")
    parser.add_argument("--presets", default=None, help="comma-separated presets (default: every *_mnist preset)")
    parser.add_argument("--steps", type=int, default=500,
                        help="train steps (models with fresh_real_batches read d_steps real "
                             "batches per step; wgan_mnist's generator updates only when the "
                             "authors' schedule says)")
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--fid_samples", type=int, default=2000)
    parser.add_argument("--classifier_samples", type=int, default=10000)
    parser.add_argument("--workdir", default=os.path.join(REPO, "runs", "scoreboard"))
    parser.add_argument("--output", default=RESULTS)
    args = parser.parse_args()
    args.data_dir = os.path.abspath(args.data_dir) if args.data_dir else None

    presets = default_presets()
    if args.presets:
        import zoo

        presets = [(zoo.core.registry.architecture_of_preset(p), p) for p in args.presets.split(",")]
    rows = []
    if os.path.exists(args.output):  # keep rows of presets not rerun
        with open(args.output) as f:
            rows = [r for r in json.load(f)["rows"] if r["preset"] not in {p for _, p in presets}]
    for architecture, preset in presets:
        print(f"== {preset}", flush=True)
        rows.append(score(architecture, preset, args))
        rows.sort(key=lambda r: list(PAPERS).index(r["architecture"]) if r["architecture"] in PAPERS else 99)
        os.makedirs(os.path.dirname(args.output), exist_ok=True)
        with open(args.output, "w") as f:
            json.dump({"rows": rows}, f, indent=2)
        print(table(rows), flush=True)


if __name__ == "__main__":
    main()
