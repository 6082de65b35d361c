"""Score a generator (or one real split against another) with the standard GAN metrics.

    python -m zoo.evaluate --generator runs/dcgan/generator.keras \\
        --dataset mnist --data_dir ../shared/datasets --num_samples 10000 \\
        --output runs/dcgan/eval.json

    python -m zoo.evaluate --real_vs_real test --dataset mnist \\
        --data_dir ../shared/datasets --num_samples 10000

With ``--generator`` it draws ``num_samples`` images (noise from the
export's prior, seeded by ``--seed``; conditional generators get labels
0..K-1 in turn, K the class count the export records), quantises
them to uint8, and compares them with ``--real_split`` of the dataset
(``--num_real`` images, default all of the split). With ``--real_vs_real
SPLIT`` the "generated" side is ``num_samples`` images of that real split
instead, which gives the floor that a perfect generator could reach.

Reported, per network (``--networks``, default: inception, plus the domain
classifier where one is shipped):

* inception: ``fid`` (Heusel et al. 2017), ``kid_mean``/``kid_std``
  (Binkowski et al. 2018), ``precision``/``recall`` (Kynkaanniemi et al.
  2019, k=3), ``inception_score_mean``/``_std`` only with ``--inception_logits``
  (needs the official TF graph, i.e. a network, once);
* classifier: ``classifier_fid``, ``classifier_score_mean``/``_std``.

With ``--text_to_image EXPORT[,EXPORT...]`` it scores text-to-image models on
the held-out captions of ``--dataset`` (``emoji``): FID, KID and
precision/recall against the held-out images, and R-precision with the
model's own text and image encoders (``zoo.metrics.text_to_image``).

With ``--super_resolution EXPORT[,EXPORT...]`` it scores x4 upscalers on the
held-out images of ``--dataset`` (``photos``: the five evaluation
photographs) as SR papers do: PSNR/SSIM on the luma with a ``scale``-pixel
border removed, per image and the mean, bicubic interpolation beside them
(``zoo.metrics.super_resolution``); ``--montage`` writes centre crops of every
method side by side.

With ``--stacked_mnist EXPORT`` it measures mode collapse on Stacked MNIST
(``zoo.metrics.modes``; Metz et al. 2016, VEEGAN, PacGAN): ``num_samples``
generated 28x28x3 images (26,000 in VEEGAN and PacGAN), each channel read by
the shipped MNIST classifier, give ``modes`` (of the 1,000 digit triples,
those with at least one sample) and ``kl_to_uniform`` (KL of their histogram
to the uniform one). ``--stacked_mnist real`` scores ``num_samples`` real
stacked training images (a fixed subset) the same way: the ceiling.

    python -m zoo.evaluate --stacked_mnist runs/dcgan_stacked/export \
        --data_dir ../shared/datasets --num_samples 26000 --output modes.json

Real-data features are cached (``zoo.metrics.real_stats``). Results are
printed and, with ``--output``, written as JSON.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

import zoo  # noqa: F401  (before TensorFlow: turns oneDNN on)

from zoo.core.errors import ConfigError, ZooError
from zoo.data.sources import source_note
from zoo.metrics.classifier import CLASSIFIER_DATASETS, classifier_extractor, shipped_classifier_path
from zoo.metrics.features import FeatureExtractor, inception_extractor
from zoo.metrics.frechet import frechet_distance, gaussian_statistics
from zoo.metrics.generator_io import load_sampler, sample_uint8
from zoo.metrics.inception_score import inception_score
from zoo.metrics.kid import kernel_inception_distance
from zoo.metrics.precision_recall import precision_recall
from zoo.metrics.real_stats import real_features


def inception_metrics(fake: dict, real: dict, kid_subset_size: int = 1000) -> dict:
    """FID, KID, precision/recall (and IS if logits are there) of fake vs real Inception outputs."""
    kid_mean, kid_std = kernel_inception_distance(fake["features"], real["features"],
                                                  subset_size=kid_subset_size)
    precision, recall = precision_recall(real["features"], fake["features"])
    scores = {
        "fid": frechet_distance(*gaussian_statistics(fake["features"]), real["mu"], real["sigma"]),
        "kid_mean": kid_mean, "kid_std": kid_std,
        "precision": precision, "recall": recall,
    }
    if "logits" in fake:
        scores["inception_score_mean"], scores["inception_score_std"] = inception_score(fake["logits"])
    return scores


def classifier_metrics(fake: dict, real: dict) -> dict:
    """Classifier FID and classifier score of fake vs real classifier outputs."""
    score_mean, score_std = inception_score(fake["logits"])
    return {
        "classifier_fid": frechet_distance(*gaussian_statistics(fake["features"]), real["mu"], real["sigma"]),
        "classifier_score_mean": score_mean, "classifier_score_std": score_std,
    }


def _extractors(names: list[str], dataset: str, inception_logits: bool) -> dict[str, FeatureExtractor]:
    extractors = {}
    for name in names:
        if name == "inception":
            extractors[name] = inception_extractor(with_logits=inception_logits)
        elif name == "classifier":
            extractors[name] = classifier_extractor(dataset)
        else:
            raise ConfigError(f"unknown network {name!r}: use inception and/or classifier")
    return extractors


def default_networks(dataset: str) -> list[str]:
    """inception, plus classifier when a domain classifier is shipped for ``dataset``."""
    has_classifier = dataset in CLASSIFIER_DATASETS and shipped_classifier_path(dataset).exists()
    return ["inception", "classifier"] if has_classifier else ["inception"]


def evaluate(dataset: str, data_dir: str | None, num_samples: int, generator: str | None = None,
             real_vs_real: str | None = None, real_split: str = "test", num_real: int | None = None,
             networks: list[str] | None = None, seed: int = 0, batch_size: int = 64,
             inception_logits: bool = False, kid_subset_size: int = 1000, num_classes: int | None = None,
             progress: bool = True, truncation: float | None = None) -> dict:
    """Scores of a generator, or of a real split, against ``real_split``; see the module docstring."""
    if (generator is None) == (real_vs_real is None):
        raise ConfigError("give exactly one of generator and real_vs_real")
    networks = networks or default_networks(dataset)
    extractors = _extractors(networks, dataset, inception_logits)
    started = time.time()
    if generator is not None:
        sampler = load_sampler(generator, truncation)
        images = sample_uint8(sampler, num_samples, seed=seed, batch_size=batch_size,
                              num_classes=num_classes)
    result = {"dataset": dataset, "real_split": real_split, "num_real": num_real,
              "source_note": source_note(dataset, real_split, data_dir),
              "num_samples": num_samples, "generator": generator, "real_vs_real": real_vs_real,
              "truncation": truncation,
              "seed": seed, "networks": networks}
    for name, extractor in extractors.items():
        real = real_features(extractor, dataset, real_split, num_real, data_dir,
                             batch_size=batch_size, progress=progress)
        if generator is not None:
            fake = extractor(images, batch_size=batch_size, progress=progress,
                             description=f"{name} features of {num_samples} generated images")
        else:
            fake = real_features(extractor, dataset, real_vs_real, num_samples, data_dir,
                                 batch_size=batch_size, progress=progress)
        if name == "inception":
            result.update(inception_metrics(fake, real, kid_subset_size))
        else:
            result.update(classifier_metrics(fake, real))
    result["seconds"] = round(time.time() - started, 1)
    return result


def evaluate_translation(translator: str, dataset: str, data_dir: str | None, split: str = "test",
                         direction: str | None = None, degradation: str | None = None,
                         networks: list[str] | None = None, batch_size: int = 64,
                         num_images: int | None = None) -> dict:
    """Scores of an exported image-to-image model on ``split`` of
    ``dataset`` (``zoo.metrics.translation``): PSNR/SSIM against the true
    targets, FID/KID with the Inception network (``networks``), cycle L1 for
    a two-way export, and the identity map as the baseline."""
    import numpy as np
    import tensorflow as tf

    from zoo.data import translation
    from zoo.metrics.translation import load_translator, score_translation

    started = time.time()
    translate, back = load_translator(translator, direction)
    if degradation:
        from zoo.training.datasets import _single_domain

        target, _ = _single_domain(dataset, split, data_dir, None)
        target = target[:num_images]
        # Fixed masks: the n-th batch of the split is degraded with seed (0, n).
        source = np.concatenate([
            np.round((translation.degrade(
                target[i:i + batch_size].astype(np.float32) / 127.5 - 1, degradation,
                tf.constant([0, i // batch_size], tf.int64)).numpy() + 1) * 127.5).astype(np.uint8)
            for i in range(0, len(target), batch_size)
        ])
        paired = True
    else:
        data = translation.load_translation(dataset, split, data_dir)
        source, target = (data.b.images, data.a.images) if direction == "b_to_a" else (data.a.images, data.b.images)
        source, target = source[:num_images], target[:num_images]
        paired = data.paired
    extractor = inception_extractor() if "inception" in (networks or ["inception"]) else None
    scores, _ = score_translation(
        translate, source, target, extractor=extractor, back=back, paired=paired, batch_size=batch_size
    )
    return {
        "translator": translator, "dataset": dataset, "split": split,
        "direction": direction or "serving_default", "degradation": degradation,
        "networks": ["inception"] if extractor else [], **scores,
        "seconds": round(time.time() - started, 1),
    }


def evaluate_likelihood(model: str, dataset: str, data_dir: str | None, split: str = "test",
                        batch_size: int = 256, num_images: int | None = None) -> dict:
    """Exact negative log-likelihood of an exported likelihood model
    (PixelRNN; its SavedModel's ``log_prob``, no zoo needed) on ``split``:
    nats per image and bits per dimension. A 2-level model is scored on the
    fixed binarisation of the split (``zoo.models.pixelrnn.binarize``, seed 1
    for test images), as it was trained."""
    import numpy as np
    import tensorflow as tf

    from zoo.data import load_arrays
    from zoo.export import load_metadata
    from zoo.metrics.real_stats import fixed_subset
    from zoo.models.pixelrnn import binarize

    started = time.time()
    path = Path(model)
    metadata = load_metadata(path)
    if "levels" not in metadata:
        raise ConfigError(f"{path} is not a likelihood model (no 'levels' in its metadata.json)")
    images, _ = load_arrays(dataset, split, data_dir)
    if metadata["levels"] == 2:
        images = binarize(images, seed=0 if split == "train" else 1)
    # A fixed random subset when num_images is given (CIFAR-10's folders are
    # class-sorted: its first 1,000 test images are all aeroplanes).
    images = fixed_subset(images, num_images, f"{dataset}/{split}")
    log_prob = tf.saved_model.load(str(path / "saved_model")).signatures["log_prob"]
    nats = np.concatenate([
        log_prob(images=tf.constant(images[i:i + batch_size].astype(np.int32)))["log_prob"].numpy()
        for i in range(0, len(images), batch_size)
    ]).astype(np.float64)
    dims = float(np.prod(images.shape[1:]))
    return {
        "model": model, "dataset": dataset, "split": split, "num_images": int(len(images)),
        "source_note": source_note(dataset, split, data_dir),
        "levels": metadata["levels"], "nats_per_image": float(-nats.mean()),
        "bits_per_dim": float(-nats.mean() / (dims * np.log(2.0))),
        "seconds": round(time.time() - started, 1),
    }


def evaluate_super_resolution(exports: list[str], dataset: str, data_dir: str | None,
                              split: str = "test", montage: str | None = None,
                              num_images: int | None = None) -> dict:
    """PSNR/SSIM (luma, border removed) of each exported upscaler (its
    SavedModel's ``serving_default``, no zoo needed) and of bicubic
    interpolation on the whole images of ``split``."""
    import numpy as np
    import tensorflow as tf

    from zoo.data import super_resolution as sr
    from zoo.export import load_metadata
    from zoo.metrics.super_resolution import crop_montage, score_super_resolution

    started = time.time()
    scales = set()
    methods = {}
    for export in exports:
        if not (Path(export) / "metadata.json").is_file():
            raise ConfigError(f"no export at {export} (no metadata.json): pass folders written by a recipe")
        metadata = load_metadata(export)
        if "scale" not in metadata:
            raise ConfigError(f"{export} is not a super-resolution model (no 'scale' in its metadata.json)")
        scales.add(int(metadata["scale"]))
        signature = tf.saved_model.load(str(Path(export) / "saved_model")).signatures["serving_default"]
        methods[Path(export).name] = (
            lambda low, signature=signature: signature(images=tf.constant(low, tf.float32))["images"].numpy()
        )
    if len(scales) != 1:
        raise ConfigError(f"the upscalers compared must share one scale; got {sorted(scales)}")
    scale = scales.pop()
    images = sr.load_high_resolution(dataset, split, data_dir)
    if num_images:
        images.images, images.names = images.images[:num_images], images.names[:num_images]
    pairs = sr.evaluation_pairs(images, scale)
    methods = {"bicubic": lambda low: sr.bicubic_upscale(low, scale), **methods}
    scores, outputs = score_super_resolution(methods, pairs, scale)
    if montage:
        from PIL import Image

        Path(montage).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(crop_montage(outputs, pairs)).save(montage)
    return {
        "exports": exports, "dataset": dataset, "split": split, "scale": scale, "border": scale,
        "images": [name for name, _, _ in pairs],
        "protocol": "PSNR/SSIM on the BT.601 luma (float, [16, 235]), border of scale pixels removed; "
                    "inputs: bicubic-antialiased downsampling quantised to 8 bits",
        "scores": scores, "montage": montage, "seconds": round(time.time() - started, 1),
    }


def evaluate_stacked_mnist(source: str, data_dir: str | None = None, num_samples: int = 26000,
                           seed: int = 0, batch_size: int = 64, truncation: float | None = None,
                           num_classes: int | None = None) -> dict:
    """Modes covered and KL to uniform (``zoo.metrics.modes``) of
    ``num_samples`` Stacked-MNIST images: drawn from the generator at
    ``source`` (a ``.keras`` file or an export folder), or, with ``source ==
    "real"``, a fixed subset of the real stacked training set."""
    from zoo.metrics.modes import NUM_MODES, check_stacked_images, score_stacked_mnist

    started = time.time()
    if source == "real":
        from zoo.data.stacked_mnist import STACKED_MNIST_SPLITS
        from zoo.metrics.real_stats import real_images

        images = real_images("stacked_mnist", "train", num_samples, data_dir)
        what = f"real stacked_mnist train images (fixed subset of {STACKED_MNIST_SPLITS['train'][0]})"
    else:
        sampler = load_sampler(source, truncation)
        images = sample_uint8(sampler, num_samples, seed=seed, batch_size=batch_size, num_classes=num_classes)
        what = "generated images"
    check_stacked_images(images)
    scores = score_stacked_mnist(images)
    return {
        "stacked_mnist": source, "num_samples": int(len(images)), "samples": what,
        "seed": seed if source != "real" else None, "truncation": truncation,
        "modes": scores["modes"], "num_modes": NUM_MODES, "kl_to_uniform": scores["kl_to_uniform"],
        "classifier": "shipped mnist classifier (savedmodels/classifiers/mnist), argmax per channel",
        "protocol": "modes = digit triples with >= 1 sample; kl_to_uniform = KL(histogram || uniform "
                    "over 1000), nats; VEEGAN/PacGAN draw 26,000 samples",
        "seconds": round(time.time() - started, 1),
    }


def _parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m zoo.evaluate", description=__doc__.split("\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--generator", help="generator .keras file or SavedModel folder")
    source.add_argument("--real_vs_real", metavar="SPLIT",
                        help="score num_samples images of this real split instead of a generator")
    source.add_argument("--likelihood", metavar="EXPORT",
                        help="export folder of a likelihood model (PixelRNN): its exact NLL on "
                             "--real_split (nats per image, bits per dimension)")
    source.add_argument("--translator",
                        help="export folder of an image-to-image model: scores its translations "
                             "of --real_split against the true targets (PSNR, SSIM, FID, KID)")
    source.add_argument("--super_resolution", metavar="EXPORT[,EXPORT...]",
                        help="export folders of super-resolution models (SRGAN, SRResNet): PSNR/SSIM "
                             "on the luma of --real_split's whole images, bicubic beside them")
    source.add_argument("--text_to_image", metavar="EXPORT[,EXPORT...]",
                        help="export folders of text-to-image models (GAN-CLS, StackGAN): FID, KID, "
                             "precision/recall and R-precision of images drawn for --real_split's captions")
    source.add_argument("--stacked_mnist", metavar="EXPORT|real",
                        help="mode collapse on Stacked MNIST: modes covered (of 1,000) and KL to "
                             "uniform of num_samples images of a generator trained on stacked_mnist "
                             "(26,000 in VEEGAN/PacGAN); 'real' scores real stacked images, the ceiling")
    parser.add_argument("--montage", help="with --super_resolution: write centre crops of every method here (PNG)")
    parser.add_argument("--direction", choices=["a_to_b", "b_to_a"],
                        help="which way a two-way translator runs (default: its serving_default, A -> B)")
    parser.add_argument("--degradation", choices=["grayscale", "mask"],
                        help="score an inpainting or colourisation translator on degraded copies")
    parser.add_argument("--num_images", type=int,
                        help="translate only the first N images of the split; score a likelihood "
                        "model on a fixed random N of them")
    parser.add_argument("--dataset",
                        help="mnist, fashion_mnist, cifar10, ...; for --translator an image-to-image "
                             "dataset: emoji:<A>,<B>, a CycleGAN or pix2pix folder; not needed "
                             "with --stacked_mnist (always stacked_mnist)")
    parser.add_argument("--data_dir", help="folder holding the dataset (e.g. ../shared/datasets)")
    parser.add_argument("--num_samples", type=int, default=None,
                        help="images scored (default 10,000; 26,000 with --stacked_mnist, as in VEEGAN and PacGAN)")
    parser.add_argument("--real_split", default="test", help="real split to compare with")
    parser.add_argument("--num_real", type=int, help="real images used (default: the whole split)")
    parser.add_argument("--networks", help="comma-separated: inception,classifier (default: all that apply)")
    parser.add_argument("--inception_logits", action="store_true",
                        help="also report the Inception Score (downloads the official TF graph once)")
    parser.add_argument("--kid_subset_size", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--num_classes", type=int, default=None,
                        help="conditional generators get labels 0..num_classes-1 in turn "
                             "(default: the class count in the export's metadata.json)")
    parser.add_argument("--truncation", type=float, default=None,
                        help="sample a truncated generator: StyleGAN's psi in (0, 1] on w, or "
                             "BigGAN's threshold on |z| (default: the export's own)")
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--output", help="write the scores here as JSON")
    args = parser.parse_args(argv)
    if args.num_samples is None:
        args.num_samples = 26000 if args.stacked_mnist is not None else 10000
    if args.stacked_mnist is not None:
        if args.dataset not in (None, "stacked_mnist"):
            parser.error(f"--stacked_mnist scores stacked_mnist; --dataset {args.dataset} does not apply")
        args.dataset = "stacked_mnist"
    elif args.dataset is None:
        parser.error("the following arguments are required: --dataset")
    return args


def main(argv=None) -> dict:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = _parse_args(argv)
    args.command = "python -m zoo.evaluate " + " ".join(shlex.quote(a) for a in argv)
    try:
        return _run(args)
    except ZooError as error:
        # Bad input: one line naming the problem and the fix, no traceback.
        print(f"error: {' '.join(str(error).split())}", file=sys.stderr)
        raise SystemExit(2) from None


def _run(args) -> dict:
    if args.stacked_mnist:
        result = evaluate_stacked_mnist(args.stacked_mnist, args.data_dir, args.num_samples, args.seed,
                                        args.batch_size, args.truncation, args.num_classes)
        result["command"] = args.command
        if args.stacked_mnist != "real":
            result["training_command"] = _training_command(args.stacked_mnist)
        _report(result, args.output)
        return result
    if args.text_to_image:
        from zoo.metrics.text_to_image import evaluate_text_to_image, text_to_image_table

        exports = [e for e in args.text_to_image.split(",") if e]
        results = [
            evaluate_text_to_image(e, args.dataset, args.data_dir, args.real_split, args.num_images,
                                   args.seed, args.batch_size, args.kid_subset_size)
            for e in exports
        ]
        for result, export_dir in zip(results, exports):
            result["training_command"] = _training_command(export_dir)
        result = {"command": args.command, "results": results}
        print(text_to_image_table(results))
        _report({"command": args.command}, args.output, full=result)
        return result
    if args.super_resolution:
        exports = [e for e in args.super_resolution.split(",") if e]
        result = evaluate_super_resolution(exports, args.dataset, args.data_dir, args.real_split,
                                           args.montage, args.num_images)
        result["command"] = args.command
        result["training_commands"] = {e: _training_command(e) for e in exports}
        print(super_resolution_table(result))
        _report({k: v for k, v in result.items() if k != "scores"}, args.output, full=result)
        return result
    if args.likelihood:
        result = evaluate_likelihood(args.likelihood, args.dataset, args.data_dir, args.real_split,
                                     args.batch_size, args.num_images)
        result["command"] = args.command
        result["training_command"] = _training_command(args.likelihood)
        _report(result, args.output)
        return result
    if args.translator:
        result = evaluate_translation(
            args.translator, args.dataset, args.data_dir, args.real_split, args.direction,
            args.degradation, args.networks.split(",") if args.networks else None,
            args.batch_size, args.num_images,
        )
        result["command"] = args.command
        result["training_command"] = _training_command(args.translator)
        _report(result, args.output)
        return result
    result = evaluate(
        dataset=args.dataset, data_dir=args.data_dir, num_samples=args.num_samples,
        generator=args.generator, real_vs_real=args.real_vs_real, real_split=args.real_split,
        num_real=args.num_real, networks=args.networks.split(",") if args.networks else None,
        seed=args.seed, batch_size=args.batch_size, inception_logits=args.inception_logits,
        kid_subset_size=args.kid_subset_size, num_classes=args.num_classes, truncation=args.truncation,
    )
    result["command"] = args.command
    if args.generator and Path(args.generator).is_dir():
        result["training_command"] = _training_command(args.generator)
    _report(result, args.output)
    return result


def _training_command(export_dir: str) -> str | None:
    """The command that trained an export (its ``metadata.json``), so that a
    scores file says how to reproduce the model it scores too."""
    from zoo.export import load_metadata

    if not (Path(export_dir) / "metadata.json").exists():
        return None
    return load_metadata(export_dir).get("command")


def super_resolution_table(result: dict) -> str:
    """A Markdown table of ``evaluate_super_resolution``'s scores: one row
    per image and the mean, PSNR / SSIM per method."""
    scores = result["scores"]
    methods = list(scores)
    lines = ["| image | " + " | ".join(methods) + " |", "|---|" + "---|" * len(methods)]
    for image in result["images"]:
        cells = [f"{scores[m]['per_image'][image]['psnr']:.2f} / {scores[m]['per_image'][image]['ssim']:.4f}"
                 for m in methods]
        lines.append(f"| {image} | " + " | ".join(cells) + " |")
    means = [f"**{scores[m]['psnr']:.2f} / {scores[m]['ssim']:.4f}**" for m in methods]
    lines.append("| mean | " + " | ".join(means) + " |")
    return "\n".join(lines)


def _report(result: dict, output: str | None, full: dict | None = None) -> None:
    """Print the scores and, with ``output``, write them (or ``full``) as JSON."""
    for key, value in result.items():
        print(f"{key:>24}: {value:.6g}" if isinstance(value, float) else f"{key:>24}: {value}")
    if output:
        Path(output).parent.mkdir(parents=True, exist_ok=True)
        Path(output).write_text(json.dumps(full or result, indent=2) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
