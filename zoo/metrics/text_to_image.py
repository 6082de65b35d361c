"""Scores of text-to-image models: image quality and whether the image fits its caption.

For each held-out image (``zoo.data.captions``: the test split, whose emoji
no model trained on) one of its captions is drawn (seeded), the model draws
an image for it, and:

* ``fid``, ``kid_mean``/``kid_std``, ``precision``/``recall``: the FID
  Inception's features of the generated images against those of the
  held-out images themselves (``zoo.evaluate.inception_metrics``);
* ``r_precision``: AttnGAN's R-precision (Xu et al. 2018, "AttnGAN",
  section 5.1) with R = 1: does the generated image retrieve its own
  caption among 100 (its own and 99 captions of other subjects drawn at
  random), by cosine similarity of the image encoder's and the text
  encoder's embeddings; mean and standard deviation over 10 draws of the
  candidates. AttnGAN scores with its DAMSM encoders; here the encoders are
  the zoo's own joint embedding (``zoo.core.text``), trained with the
  model, so the numbers compare models of the zoo, not papers.
  ``r_precision_real`` is the same score for the real held-out images: the
  encoder's own ceiling.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from zoo.core.errors import ConfigError


def r_precision(image_embeddings, text_embeddings, identity, candidates=100, repeats=10, seed=0):
    """``(mean, std)`` over ``repeats`` draws of the fraction of images whose
    own caption (row ``i`` of ``text_embeddings``) scores strictly highest,
    by cosine similarity, among itself and ``candidates - 1`` captions of
    other subjects (``identity`` differs) drawn without replacement."""
    images = np.asarray(image_embeddings, np.float64)
    texts = np.asarray(text_embeddings, np.float64)
    identity = np.asarray(identity)
    if not (len(images) == len(texts) == len(identity)):
        raise ConfigError("r_precision needs one image embedding, one caption embedding and one subject per image.")
    images /= np.maximum(np.linalg.norm(images, axis=1, keepdims=True), 1e-12)
    texts /= np.maximum(np.linalg.norm(texts, axis=1, keepdims=True), 1e-12)
    rng = np.random.default_rng(seed)
    scores = []
    for _ in range(repeats):
        hits = 0
        for i in range(len(images)):
            pool = np.flatnonzero(identity != identity[i])
            if len(pool) < candidates - 1:
                raise ConfigError(
                    f"R-precision with {candidates} candidates needs {candidates - 1} captions of other "
                    f"subjects; image {i} has {len(pool)}."
                )
            others = rng.choice(pool, candidates - 1, replace=False)
            similarity = texts[np.concatenate([[i], others])] @ images[i]
            hits += similarity[0] > similarity[1:].max()
        scores.append(hits / len(images))
    return float(np.mean(scores)), float(np.std(scores))


def _embed_images(image_encoder, images_uint8, batch_size):
    outputs = [
        np.asarray(image_encoder(images_uint8[s:s + batch_size].astype(np.float32) / 127.5 - 1.0, training=False))
        for s in range(0, len(images_uint8), batch_size)
    ]
    return np.concatenate(outputs)


def load_text_to_image(export_dir):
    """``(generator, image_encoder)`` of an export folder: the
    ``TextToImageGenerator`` (``generator.keras``) and the image encoder
    trained with its text encoder (``image_encoder.keras``)."""
    import keras

    import zoo  # noqa: F401  (registers the networks)

    folder = Path(export_dir)
    missing = [name for name in ("generator.keras", "image_encoder.keras") if not (folder / name).exists()]
    if missing:
        raise ConfigError(
            f"{folder} is not a text-to-image export: {', '.join(missing)} missing "
            "(recipes/gan_cls.py and recipes/stackgan.py write both)."
        )
    generator = keras.models.load_model(folder / "generator.keras", compile=False)
    if not hasattr(generator, "text_encoder"):
        raise ConfigError(f"{folder}/generator.keras does not take captions (a {type(generator).__name__}).")
    return generator, keras.models.load_model(folder / "image_encoder.keras", compile=False)


def evaluate_text_to_image(export_dir, dataset="emoji", data_dir=None, split="test", num_images=None, seed=0,
                           batch_size=64, kid_subset_size=1000, progress=True, extractor=None):
    """Scores of one export on ``split`` of a captioned dataset (module doc)."""
    from zoo.data.captions import load_captioned
    from zoo.evaluate import inception_metrics
    from zoo.metrics.features import inception_extractor
    from zoo.metrics.frechet import gaussian_statistics
    from zoo.metrics.preprocess import quantize_to_uint8

    started = time.time()
    generator, image_encoder = load_text_to_image(export_dir)
    size = int(generator.outputs[0].shape[1])
    data = load_captioned(dataset, split, data_dir, image_size=size, max_length=generator.max_length)
    chosen = np.arange(len(data))
    if num_images is not None and num_images < len(data):
        chosen = np.sort(np.random.default_rng(0).choice(len(data), num_images, replace=False))
    rng = np.random.default_rng(seed)
    captions = [data.captions[i][rng.integers(len(data.captions[i]))] for i in chosen]
    real = data.images[chosen]
    identity = data.identity[chosen]
    fake = np.concatenate([
        quantize_to_uint8(generator.generate(captions[s:s + batch_size], seed=seed + s))
        for s in range(0, len(captions), batch_size)
    ])
    extractor = extractor or inception_extractor()
    fake_features = extractor(fake, batch_size=batch_size, progress=progress,
                              description=f"inception features of {len(fake)} generated images")["features"]
    real_features = extractor(real, batch_size=batch_size, progress=progress,
                              description=f"inception features of {len(real)} held-out images")["features"]
    mu, sigma = gaussian_statistics(real_features)
    result = {
        "export": str(export_dir), "dataset": dataset, "split": split, "num_images": int(len(chosen)),
        "seed": seed,
        **inception_metrics({"features": fake_features},
                            {"features": real_features, "mu": mu, "sigma": sigma},
                            min(kid_subset_size, len(chosen))),
    }
    text = np.asarray(generator.text_encoder.encode(captions, batch_size=batch_size))
    result["r_precision"], result["r_precision_std"] = r_precision(
        _embed_images(image_encoder, fake, batch_size), text, identity, seed=seed
    )
    result["r_precision_real"], result["r_precision_real_std"] = r_precision(
        _embed_images(image_encoder, real, batch_size), text, identity, seed=seed
    )
    result["seconds"] = round(time.time() - started, 1)
    return result


def text_to_image_table(results):
    """A Markdown table of ``evaluate_text_to_image`` results, one row per export."""
    lines = [
        "| model | FID | KID x 1000 | precision | recall | R-precision (generated) | R-precision (real) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        lines.append(
            f"| {Path(result['export']).name} | {result['fid']:.1f} | {1000 * result['kid_mean']:.1f} | "
            f"{result['precision']:.3f} | {result['recall']:.3f} | "
            f"{result['r_precision']:.3f} ± {result['r_precision_std']:.3f} | "
            f"{result['r_precision_real']:.3f} |"
        )
    return "\n".join(lines)
