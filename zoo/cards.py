"""Model cards written from what a run recorded, not by hand.

    python -m zoo.cards savedmodels/pix2pix_emoji --scores eval.json \\
        --baseline "L1 only=savedmodels/pix2pix_emoji_l1/eval.json" --grid samples.png

reads the export's ``metadata.json`` (architecture, preset, the training
command, steps, batch, wall time, hardware) and the ``zoo.evaluate`` JSON
files given (each holding the command that produced it), and writes
``README.md`` in the export folder: what the model is (the preset's
description and the paper), its files and signatures, how it was trained
(the exact command), its scores beside the baselines, and the sample grid.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

PAPERS = {
    "gan": "Goodfellow et al. 2014, *Generative Adversarial Nets*",
    "cgan": "Mirza & Osindero 2014, *Conditional Generative Adversarial Nets*",
    "dcgan": "Radford et al. 2015, *Unsupervised Representation Learning with DCGANs*",
    "aae": "Makhzani et al. 2015, *Adversarial Autoencoders*",
    "ebgan": "Zhao et al. 2016, *Energy-based Generative Adversarial Network*",
    "lsgan": "Mao et al. 2017, *Least Squares Generative Adversarial Networks*",
    "wgan": "Arjovsky et al. 2017, *Wasserstein GAN*",
    "wgan_gp": "Gulrajani et al. 2017, *Improved Training of Wasserstein GANs*",
    "sngan": "Miyato et al. 2018, *Spectral Normalization for GANs*",
    "pix2pix": "Isola et al. 2017, *Image-to-Image Translation with Conditional Adversarial Networks*",
    "cyclegan": "Zhu et al. 2017, *Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial Networks*",
    "discogan": "Kim et al. 2017, *Learning to Discover Cross-Domain Relations with GANs*",
    "pixelrnn": "van den Oord et al. 2016, *Pixel Recurrent Neural Networks*",
    "lapgan": "Denton et al. 2015, *Deep Generative Image Models using a Laplacian Pyramid of Adversarial Networks*",
    "srgan": "Ledig et al. 2017, *Photo-Realistic Single Image Super-Resolution Using a GAN*",
    "progan": "Karras et al. 2018, *Progressive Growing of GANs for Improved Quality, Stability, and Variation*",
    "stylegan": "Karras et al. 2019, *A Style-Based Generator Architecture for GANs*, as StyleGAN2 (Karras et "
    "al. 2020, *Analyzing and Improving the Image Quality of StyleGAN*)",
    "biggan": "Brock et al. 2019, *Large Scale GAN Training for High Fidelity Natural Image Synthesis*",
    "gan_cls": "Reed et al. 2016, *Generative Adversarial Text to Image Synthesis*",
    "stackgan": "Zhang et al. 2017, *StackGAN: Text to Photo-realistic Image Synthesis with Stacked GANs*",
}

# Score keys as shown, in order, with how to format them.
SCORES = [
    ("nats_per_image", "test NLL (nats/image, lower is better)", "{:.2f}"),
    ("bits_per_dim", "test NLL (bits/dim, lower is better)", "{:.4f}"),
    ("psnr", "PSNR (dB, higher is better)", "{:.2f}"),
    ("ssim", "SSIM (higher is better)", "{:.4f}"),
    ("fid", "FID (lower is better)", "{:.2f}"),
    ("kid_mean", "KID x 1000 (lower is better)", "{:.2f}"),
    ("cycle_l1", "cycle L1 (lower is better)", "{:.4f}"),
    ("classifier_fid", "classifier FID", "{:.2f}"),
    ("classifier_score_mean", "classifier score", "{:.2f}"),
    ("precision", "precision", "{:.3f}"),
    ("recall", "recall", "{:.3f}"),
    ("r_precision", "R-precision (1 of 100, zoo encoders)", "{:.3f}"),
    ("r_precision_real", "R-precision of the real images", "{:.3f}"),
]


def _value(scores, key, fmt):
    if key not in scores or scores[key] is None:
        return "-"
    value = scores[key] * (1000 if key == "kid_mean" else 1)
    return fmt.format(value)


def _signatures(metadata):
    kind = (metadata.get("condition") or {}).get("kind", "none")
    shape = "x".join(str(d) for d in metadata.get("image_shape", []))
    if "levels" in metadata:  # a likelihood model (PixelRNN)
        return (
            f"`log_prob` (int `images` `[batch, {shape}]` in [0, {metadata['levels']}) -> `log_prob` "
            "in nats, `bits_per_dim`), `sample` (`num_images`, `seed` -> `values`, `images`, "
            "`images_uint8`: the whole pixel-by-pixel loop), `complete` (`images`, `rows`, `seed`: "
            "the rows below the first `rows` sampled)"
        )
    if metadata.get("directions"):
        return (
            f"`serving_default` and `a_to_b` (A -> B), `b_to_a` (B -> A): `images` float32 "
            f"`[batch, {shape}]` in [-1, 1] -> `images`, `images_uint8`; the same with uint8 "
            "`images` as `a_to_b_uint8`, `b_to_a_uint8`"
        )
    if metadata.get("scale"):  # super-resolution: any size in
        scale = metadata["scale"]
        return (
            f"`serving_default` and `upscale`: `images` float32 `[batch, h, w, 3]` in [-1, 1], any "
            f"`h, w` -> `images`, `images_uint8` `[batch, {scale}h, {scale}w, 3]`; `*_uint8` take uint8 `images`"
        )
    if kind == "image":
        return (
            f"`serving_default`: `images` float32 `[batch, {shape}]` in [-1, 1] -> `images`, "
            "`images_uint8`; `serving_default_uint8`: the same from uint8 `images`"
        )
    if kind == "text":
        return (
            "`serving_default` (`noise` and `text`: raw UTF-8 captions, one per image -> `images`, "
            "`images_uint8`) and `sample` (`num_images`, `seed`, `text` -> same); captions are "
            f"tokenised inside (at most {metadata.get('max_caption_length')} characters; an empty, too "
            "long or non-UTF-8 caption is an error)"
        )
    inputs = "`noise`" + (" and `labels`" if kind == "class" else "")
    text = f"`serving_default` ({inputs} -> `images`, `images_uint8`) and `sample` (`num_images`, `seed` -> same)"
    if "num_ws" in metadata:  # StyleGAN: truncation on w and style mixing
        text += (
            f" at truncation {metadata['truncation']}; `truncated` (`noise`, `truncation`), "
            "`sample_truncated` (`num_images`, `seed`, `truncation`) with psi in (0, 1]; `style_mix` "
            "(`num_images`, `seed`, `mix_seed`, `mix_at`, `truncation`: the styles of layers >= "
            f"`mix_at` (1..{metadata['num_ws']}) from `mix_seed`)"
        )
    elif "standing_statistics" in metadata:  # BigGAN: truncation on |z|
        text += (
            f" ({'no truncation' if metadata['truncation'] is None else 'truncation ' + str(metadata['truncation'])}); "
            "`sample_truncated` (`num_images`, `seed`, `labels`, `truncation`: z's threshold, > 0)"
        )
    return text


def _curve_section(export_dir, curve, selection):
    """The card's training curve: ``fid_curve.svg`` written into
    ``export_dir``, the step exported and the time to FID targets."""
    from zoo.plots import fid_curve_svg, first_time_below

    targets = [(f"FID {t}", t) for t in FID_TARGETS if min(p["fid"] for p in curve["points"]) <= t * 1.5]
    (Path(export_dir) / "fid_curve.svg").write_text(fid_curve_svg(curve, targets))
    metric = "FID" if curve.get("metric") == "fid" else "classifier FID (MNIST classifier features)"
    lines = [
        "## Training curve", "",
        f"{metric} of {curve['num_samples']:,} samples (fixed noise, seed {curve.get('seed', 0)}) against "
        f"the whole {curve.get('real_split', 'test')} split, every {curve['every']:,} steps during training "
        "(`--fid_every`); minutes count training only, not the scoring. FID at "
        f"{curve['num_samples']:,} samples is biased upwards against the 10,000 of the scores below.", "",
        "![FID against steps and minutes of training](fid_curve.svg)", "",
    ]
    if selection:
        lines += [f"The exported generator is step {selection['step']:,}'s, the lowest on the curve "
                  f"({selection['fid']:.2f}).", ""]
    reached = []
    for threshold in FID_TARGETS:
        hit = first_time_below(curve, threshold)
        if hit:
            reached.append(f"FID {threshold} at step {hit[0]:,} after {hit[1] / 60:.1f} minutes of training")
    if reached:
        lines += ["On this curve: " + "; ".join(reached) + ".", ""]
    lines += ["| step | minutes of training | " + metric + " |", "|---:|---:|---:|"]
    lines += [f"| {p['step']:,} | {p['train_seconds'] / 60:.1f} | {p['fid']:.2f} |" for p in curve["points"]]
    return lines + [""]


# FID values the card reports the time to reach, on its training curve.
FID_TARGETS = (20, 10)


def write_card(export_dir, scores=(), baselines=(), grid=None, title=None, notes=None, curve=None):
    """Write ``export_dir/README.md``; returns its text.

    Args:
        scores: ``zoo.evaluate`` JSON files of this model.
        baselines: ``(label, JSON file)`` of other models to set beside it
            (an identity baseline inside a translation score is shown too).
        grid: an image file in ``export_dir`` to show.
        notes: extra Markdown paragraphs (what the numbers mean, deviations).
        curve: a ``fid_curve.json`` of the run (default: the one the
            export's metadata holds, if any), drawn as ``fid_curve.svg``.
    """
    import zoo

    export_dir = Path(export_dir)
    metadata = json.loads((export_dir / "metadata.json").read_text())
    architecture, preset = metadata.get("architecture"), metadata.get("preset")
    description = ""
    if architecture and preset:
        try:
            description = zoo.get(architecture).preset_config(preset)["description"]
        except ValueError:
            description = ""
    name = export_dir.name
    lines = [f"# {name}: {title or (architecture or 'model')}", ""]
    if architecture in PAPERS:
        lines += [f"{PAPERS[architecture]}; preset `{preset}`: {description}", ""]
    shipped = (export_dir / "generator.keras").is_file()
    lines += ["## Files", ""]
    if not shipped:
        lines += ["The weights are not shipped: the training command below rebuilds them.", ""]
    lines += ["| file | what |", "|---|---|"]
    if shipped:
        lines += [
            f"| `generator.keras` | `import zoo; keras.models.load_model(...)`: the trained "
            f"{'network (images -> logits)' if 'levels' in metadata else 'generator'} "
            f"(inputs {', '.join('`' + i + '`' for i in metadata.get('inputs', []))}) |",
            f"| `saved_model/` | TF SavedModel, loads without the zoo: {_signatures(metadata)} |",
        ]
        if (export_dir / "image_encoder.keras").is_file():
            lines.append(
                "| `image_encoder.keras` | the image side of the text encoder's joint embedding, "
                "which R-precision scores with |"
            )
    lines += [
        "| `metadata.json` | architecture, preset, shapes, step, the training command, hardware |",
        "",
        "## How it was trained", "",
        "```bash", metadata.get("command", "(not recorded)"), "```", "",
    ]
    facts = []
    if metadata.get("step") is not None:
        facts.append(f"{metadata['step']:,} train steps")
    if metadata.get("batch_size"):
        facts.append(f"batch {metadata['batch_size']}")
    if metadata.get("epochs"):
        facts.append(f"{metadata['epochs']} epochs of {metadata.get('steps_per_epoch')} steps")
    if run_curve(export_dir, metadata) and metadata.get("selected_by_fid"):
        final_step = metadata.get("final_step")
        went_on = ("the run's last step" if final_step == metadata.get("step")
                   else f"the run went on to step {final_step or '?'}")
        facts.append(f"{training_minutes(export_dir, metadata):.0f} minutes of training to that step "
                     f"(FID scoring left out; {went_on})")
    elif metadata.get("seconds_total") or metadata.get("seconds_this_run"):
        seconds = metadata.get("seconds_total") or metadata["seconds_this_run"]
        facts.append(f"{seconds / 60:.0f} minutes of training")
    if metadata.get("hardware"):
        facts.append(f"on {metadata['hardware']}")
    if facts:
        lines += [", ".join(facts) + ".", ""]
    if grid:
        lines += [f"![samples]({grid})", ""]
        captions_file = export_dir / "samples.txt"
        if captions_file.is_file():
            from zoo.data.captions import NOVEL_CAPTIONS

            captions = [c for c in captions_file.read_text().splitlines() if c]
            novel = [c for c in captions if c in NOVEL_CAPTIONS]
            held_out = [c for c in captions if c not in NOVEL_CAPTIONS]
            lines += [
                f"One row per caption, top to bottom. The first {len(held_out)} are captions of held-out "
                "test emoji: " + "; ".join(f'"{c}"' for c in held_out) + f". The last {len(novel)} combine "
                "colours and objects anew (no training caption says them): "
                + "; ".join(f'"{c}"' for c in novel) + ".", "",
            ]
    curve = json.loads(Path(curve).read_text()) if curve else run_curve(export_dir, metadata)
    if curve and curve.get("points"):
        lines += _curve_section(export_dir, curve, metadata.get("selected_by_fid"))
    # Each JSON file read once: its scores make rows, its commands the list below.
    score_results = [_read_scores(path) for path in scores]
    baseline_results = [(label, _read_scores(path)) for label, path in baselines]
    published = _published_rows(architecture, score_results)
    rows = []
    for result in score_results:
        # A two-way model is scored once per direction: say which.
        direction = result.get("direction")
        which = f" {direction.replace('_', ' ')}" if direction in ("a_to_b", "b_to_a") else ""
        if result.get("truncation") is not None:  # a truncation sweep
            which += f", truncation {result['truncation']}"
        rows.append((f"**{name}**{which}", result))
        if "baseline_identity" in result:
            rows.append((f"identity{which} (the source unchanged)", result["baseline_identity"]))
    rows += baseline_results + [(label, result) for label, result, _ in published]
    for result in score_results:
        if "scores" in result and "scale" in result:
            lines += _super_resolution_scores(result)
            rows = []
    if rows:
        keys = [(k, label, fmt) for k, label, fmt in SCORES if any(k in r for _, r in rows)]
        first = score_results[0] if score_results else {}
        count = first.get("num_images") or first.get("num_samples")
        split = first.get("split") or first.get("real_split") or "test"
        lines += [
            "## Scores", "",
            f"On the {split} split ({count} images)"
            + (f", {_dataset_label(first)}:" if first.get("dataset") else ":"),
            "",
            "| model | " + " | ".join(label for _, label, _ in keys) + " |",
            "|---|" + "---|" * len(keys),
        ]
        for label, result in rows:
            lines.append(f"| {label} | " + " | ".join(_value(result, k, fmt) for k, _, fmt in keys) + " |")
        lines += ["", "Each number comes from:", ""]
        for result in score_results:
            command = result.get("command")
            if command:
                lines += ["```bash", command, "```", ""]
        for label, result in baseline_results:
            commands = [c for c in (result.get("training_command"), result.get("command")) if c]
            if commands:
                lines += [f"{label}, trained and scored with:", "", "```bash", *commands, "```", ""]
        for label, _, source in published:
            lines += [f"{label}: {source}.", ""]
    if notes:
        lines += [notes.strip(), ""]
    text = "\n".join(lines)
    (export_dir / "README.md").write_text(text)
    return text


def _published_rows(architecture, score_results):
    """Published FIDs at the protocol of this card's scores (Inception,
    10,000 samples against the test split): ``[(label, {"fid"}, source)]``."""
    from zoo.published import published_fid

    first = score_results[0] if score_results else {}
    if not (first.get("fid") is not None and first.get("num_samples") == 10000
            and first.get("real_split", "test") == "test" and first.get("num_real") in (None, 10000)):
        return []
    return [(f"published: {label}", {"fid": fid}, source)
            for label, fid, source in published_fid(architecture, first.get("dataset"))]


def _read_scores(path):
    """A ``zoo.evaluate`` JSON file; one of ``--text_to_image``'s (a list of
    results under one command) as its single result with the command."""
    result = json.loads(Path(path).read_text())
    if "results" in result and len(result["results"]) == 1:
        return {**result["results"][0], "command": result.get("command")}
    return result


def _super_resolution_scores(result):
    """The card's section for ``zoo.evaluate --super_resolution`` scores:
    the per-image table, the montage and the commands behind them."""
    from zoo.evaluate import super_resolution_table

    lines = [
        "## Scores", "",
        f"x{result['scale']} on the {result['split']} images of {result['dataset']} "
        f"(whole images, {len(result['images'])}): PSNR (dB) / SSIM, higher is better. "
        f"{result['protocol']}.", "",
        super_resolution_table(result), "",
    ]
    if result.get("montage"):
        methods = list(result["scores"])
        lines += [
            f"Centre crops, left to right: {', '.join(methods)}, original "
            f"(`{Path(result['montage']).name}`):", "",
            f"![montage]({Path(result['montage']).name})", "",
        ]
    lines += ["Scored with:", "", "```bash", result["command"], "```", ""]
    for export, command in (result.get("training_commands") or {}).items():
        if command:
            lines += [f"`{export}` was trained with:", "", "```bash", command, "```", ""]
    return lines


def run_curve(export_dir, metadata):
    """The training run's FID curve: the export's metadata holds it (runs
    with ``--fid_every``), or a ``fid_curve.json`` beside it; else None."""
    if metadata.get("fid_curve"):
        return metadata["fid_curve"]
    path = Path(export_dir) / "fid_curve.json"
    return json.loads(path.read_text()) if path.is_file() else None


def training_minutes(export_dir, metadata):
    """Minutes of training up to the exported step: from the FID curve
    (scoring time left out) where there is one, else the run's wall time."""
    curve = run_curve(export_dir, metadata)
    if curve:
        points = {p["step"]: p for p in curve["points"]}
        if metadata.get("step") in points:
            return points[metadata["step"]]["train_seconds"] / 60
    return (metadata.get("seconds_total") or 0) / 60


README_BEGIN = "<!-- pretrained-zoo:begin (written by python -m zoo.cards --readme README.md) -->"
README_END = "<!-- pretrained-zoo:end -->"


FLOORS_DIR = Path(__file__).resolve().parents[1] / "bench" / "results" / "real_vs_real"


def floor_fid(dataset, floors_dir=FLOORS_DIR):
    """FID of 10,000 real training images against the test images of
    ``dataset`` (``bench/results/real_vs_real``), or None."""
    from zoo.published import dataset_name

    path = Path(floors_dir) / f"{dataset_name(dataset)}_train_vs_test.json"
    return json.loads(path.read_text()).get("fid") if path.is_file() else None


def _dataset_label(scores: dict) -> str:
    """The dataset of ``scores`` (a ``zoo.evaluate`` result) as a card names
    it, with how the files scored against differ from the published dataset
    where they do (its ``source_note``: CIFAR-10 in ``../shared`` is a JPEG
    q75 copy; from TFDS it is the original, and no note is added)."""
    note = scores.get("source_note")
    return f"{scores.get('dataset')} ({note})" if note else str(scores.get("dataset"))


def pretrained_table(models=None, floors_dir=FLOORS_DIR):
    """Markdown for README: the shipped models scored at the papers'
    protocol (Inception FID of 10,000 samples against the 10,000 test
    images), each beside its published value and the train-vs-test floor
    (``floor_fid``), then a gallery of their sample grids. ``models``:
    ``zoo.pretrained()``."""
    import zoo
    from zoo.published import published_fid

    models = zoo.pretrained() if models is None else models
    rows, gallery = [], []
    for name, facts in sorted(models.items()):
        scores = facts.get("scores") or {}
        if scores.get("fid") is None or scores.get("num_samples") != 10000:
            continue
        folder = Path(facts["path"])
        metadata = json.loads((folder / "metadata.json").read_text())
        published = published_fid(facts["architecture"], scores.get("dataset"))
        paper = "; ".join(f"{fid} ({label})" for label, fid, _ in published) or "-"
        floor = floor_fid(scores.get("dataset"), floors_dir)
        minutes = training_minutes(folder, metadata)
        rows.append(
            f"| [`{name}`](savedmodels/{name}/README.md) | {_dataset_label(scores)} | "
            f"{metadata.get('step', 0):,} steps, {minutes:.0f} min | **{scores['fid']:.2f}** | {paper} | "
            f"{_value(scores, 'kid_mean', '{:.2f}')} | {_value(scores, 'precision', '{:.3f}')} / "
            f"{_value(scores, 'recall', '{:.3f}')} | {'-' if floor is None else f'{floor:.2f}'} |"
        )
        if (folder / "samples.png").is_file():
            gallery.append(f"| `{name}` | ![{name}](savedmodels/{name}/samples.png) |")
    if not rows:
        return ""
    lines = [
        "| model | data | trained | FID | published FID | KID x 1000 | precision / recall | floor (train vs test) |",
        "|---|---|---|---:|---|---:|---|---:|",
        *rows, "",
    ]
    if gallery:
        lines += ["| model | samples (seed 0) |", "|---|---|", *gallery, ""]
    return "\n".join(lines)


def update_readme(path, models=None, floors_dir=FLOORS_DIR):
    """Replace the text between ``README_BEGIN`` and ``README_END`` in
    ``path`` with ``pretrained_table``; a README without the markers is an
    error naming them."""
    from zoo.core.errors import ConfigError

    text = Path(path).read_text()
    if README_BEGIN not in text or README_END not in text:
        raise ConfigError(f"{path} has no {README_BEGIN!r} ... {README_END!r} markers to write between")
    head, rest = text.split(README_BEGIN, 1)
    _, tail = rest.split(README_END, 1)
    Path(path).write_text(f"{head}{README_BEGIN}\n{pretrained_table(models, floors_dir)}{README_END}{tail}")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m zoo.cards", description=__doc__.split("\n")[0])
    parser.add_argument("export_dir", nargs="?")
    parser.add_argument("--readme", help="rewrite the pretrained-zoo table and gallery in this README")
    parser.add_argument("--scores", action="append", default=[], help="zoo.evaluate JSON of this model")
    parser.add_argument("--baseline", action="append", default=[], metavar="LABEL=JSON",
                        help="another model's scores to set beside these")
    parser.add_argument("--grid", help="an image in the export folder to show")
    parser.add_argument("--samples", type=int, metavar="N",
                        help="write samples.png into the export folder (N images of its SavedModel's "
                             "`sample` signature, seed 0) and show it")
    parser.add_argument("--data_dir", help="with --samples, for a text-to-image model: where its dataset is")
    parser.add_argument("--title")
    parser.add_argument("--notes", help="a Markdown file of notes to append")
    parser.add_argument("--curve", help="the run's fid_curve.json (default: the one in the export's metadata)")
    args = parser.parse_args(argv)
    if args.readme:
        update_readme(args.readme)
        return
    if not args.export_dir:
        parser.error("give an export folder (or --readme README.md)")
    baselines = [tuple(item.split("=", 1)) for item in args.baseline]
    notes = Path(args.notes).read_text() if args.notes else None
    grid = args.grid
    if args.samples:
        grid = write_samples(args.export_dir, args.samples, data_dir=args.data_dir)
    print(write_card(args.export_dir, args.scores, baselines, grid, args.title, notes, args.curve))


def write_samples(export_dir, num_images, seed=0, data_dir=None):
    """``samples.png`` in ``export_dir``: ``num_images`` from its SavedModel's
    ``sample`` signature (what a TF Serving user gets for ``seed``); a
    class-conditional model's in one row per class, a text-to-image model's
    in one row per grid caption (``zoo.data.captions.grid_captions`` of its
    dataset under ``data_dir``, written to ``samples.txt``). Returns the
    file's name."""
    import numpy as np
    import tensorflow as tf

    from zoo.training.callbacks import image_grid, save_png

    sample = tf.saved_model.load(str(Path(export_dir) / "saved_model")).signatures["sample"]
    metadata = json.loads((Path(export_dir) / "metadata.json").read_text())
    condition = metadata.get("condition") or {}
    extra, columns = {}, None
    if condition.get("kind") == "text":
        # One row per fixed caption (held-out ones, then novel ones), several draws each.
        from zoo.data.captions import grid_captions

        captions = grid_captions(metadata["dataset"], data_dir, metadata["max_caption_length"])
        columns = max(1, num_images // len(captions))
        text = [caption for caption in captions for _ in range(columns)]
        num_images, extra = len(text), {"text": tf.constant(text)}
        (Path(export_dir) / "samples.txt").write_text("\n".join(captions) + "\n")
    if condition.get("kind") == "class":
        columns = max(1, num_images // condition["num_classes"])
        labels = np.repeat(np.arange(condition["num_classes"]), columns).astype("int32")
        num_images, extra = len(labels), {"labels": tf.constant(labels)}
    images = sample(num_images=tf.constant(num_images), seed=tf.constant(seed), **extra)["images_uint8"].numpy()
    save_png(str(Path(export_dir) / "samples.png"), image_grid(images, columns=columns))
    return "samples.png"


if __name__ == "__main__":
    main(sys.argv[1:])
