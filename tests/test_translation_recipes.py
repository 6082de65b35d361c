"""The image-to-image recipes as a user runs them, on the real emoji: train,
grid, export, evaluate, card; and clear one-line errors for bad folders."""

import json

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from conftest import shared_path
from test_recipe import REPO, run_recipe
from zoo import cards, evaluate
from zoo.data import translation


@pytest.fixture(scope="module")
def datasets_dir():
    return shared_path("datasets", "emoji").parent


@pytest.mark.slow
def test_pix2pix_trains_exports_evaluates_and_gets_a_card(tmp_path, datasets_dir):
    code, stdout, stderr = run_recipe(
        f"--data_dir={datasets_dir}", "--epochs=1", "--steps_per_epoch=2", "--batch_size=2",
        f"--logdir={tmp_path}/run", f"--export_dir={tmp_path}/export", "--verbose=0", script="pix2pix",
    )
    assert code == 0, stderr[-3000:]
    assert "emoji openmoji_black -> openmoji_color (train:" in stdout and "Trained to step 2" in stdout
    grid = tf.io.decode_png(tf.io.read_file(str(tmp_path / "run" / "samples" / "step_00000002.png"))).numpy()
    assert grid.shape == (8 * 64, 3 * 64, 3)  # 8 held-out emoji: input | output | target
    metadata = json.loads((tmp_path / "export" / "metadata.json").read_text())
    assert metadata["condition"]["kind"] == "image" and metadata["seconds_total"] > 0
    assert "cores" in metadata["hardware"]

    scores = evaluate.main([
        "--translator", str(tmp_path / "export"), "--dataset", "emoji:openmoji_black,openmoji_color",
        "--data_dir", str(datasets_dir), "--networks", "none", "--num_images", "40",
        "--output", str(tmp_path / "eval.json"),
    ])
    assert scores["num_images"] == 40 and 0 < scores["ssim"] < 1 and scores["psnr"] > 0
    identity = scores["baseline_identity"]
    assert identity["psnr"] > 5 and "fid" not in scores
    assert scores["command"].startswith("python -m zoo.evaluate --translator")
    assert scores["training_command"] == metadata["command"]  # how the scored model was made

    # The same scores as a baseline: the card names how it was trained too.
    text = cards.write_card(tmp_path / "export", [str(tmp_path / "eval.json")], grid="samples.png",
                            baselines=[("L1 only", str(tmp_path / "eval.json"))])
    assert "preset `pix2pix_emoji`" in text and metadata["command"] in text
    assert "| identity (the source unchanged) |" in text and scores["command"] in text
    assert "| L1 only |" in text and "L1 only, trained and scored with:" in text


@pytest.mark.slow
def test_degradation_presets_score_on_reproducible_masks(tmp_path, datasets_dir):
    code, _, stderr = run_recipe(
        f"--data_dir={datasets_dir}", "--preset=pix2pix_emoji_inpainting", "--epochs=1",
        "--steps_per_epoch=1", "--batch_size=2", f"--logdir={tmp_path}/run",
        f"--export_dir={tmp_path}/export", "--verbose=0", script="pix2pix",
    )
    assert code == 0, stderr[-3000:]
    args = ["--translator", str(tmp_path / "export"), "--dataset", "emoji:openmoji_color",
            "--data_dir", str(datasets_dir), "--degradation", "mask", "--networks", "none",
            "--num_images", "16"]
    first, second = evaluate.main(args), evaluate.main(args)
    assert first["psnr"] == second["psnr"]  # the same masks both times
    assert first["baseline_identity"]["psnr"] < 40  # the masked source is not the target


def _folder(tmp_path, pairs, layout):
    for side, images in (("A", pairs.a.images), ("B", pairs.b.images)):
        for i in range(4):
            path = tmp_path / layout / f"train{side}" / f"{i}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(images[i]).save(path)
    return tmp_path / layout


def test_bad_image_to_image_folders_are_one_line(tmp_path, datasets_dir):
    pairs = translation.load_translation("emoji:google,twitter", "test", datasets_dir)
    folder = _folder(tmp_path, pairs, "cyclegan_layout")
    for path in (folder / "trainB").iterdir():
        path.unlink()
    (folder / "trainB").rmdir()
    common = [f"--dataset={folder}", "--epochs=1", "--steps_per_epoch=1", "--batch_size=2",
              f"--logdir={tmp_path}/run", f"--export_dir={tmp_path}/export"]
    code, _, stderr = run_recipe(*common, script="cyclegan")
    last = stderr.strip().splitlines()[-1]
    assert code == 2 and "Traceback" not in stderr
    assert last.startswith("error: ") and "trainB is missing" in last, last
    # pix2pix needs pairs: an unpaired folder (4 A, 3 B) is refused.
    folder = _folder(tmp_path, pairs, "unpaired")
    (folder / "trainB" / "3.png").unlink()
    code, _, stderr = run_recipe(*common[1:], f"--dataset={folder}", script="pix2pix")
    last = stderr.strip().splitlines()[-1]
    assert code == 2 and "is not paired" in last, last


@pytest.mark.parametrize("name, dataset", [
    ("pix2pix_emoji", "emoji:openmoji_black,openmoji_color"),
    ("cyclegan_emoji", "emoji:google,twitter"),
    ("discogan_emoji", "emoji:google,twitter"),
])
def test_shipped_translators_serve_what_load_model_computes(name, dataset):
    # The pretrained image-to-image models: zoo.load by name gives the A -> B
    # generator, and the SavedModel (no zoo needed) computes the same
    # images on real held-out emoji, in each direction it serves.
    import zoo

    folder = REPO / "savedmodels" / name
    data = translation.load_translation(dataset, "test", shared_path("datasets"))
    source = data.a.images[:3].astype(np.float32) / 127.5 - 1
    served = tf.saved_model.load(str(folder / "saved_model")).signatures
    generator = zoo.load(name)
    expected = generator(source, training=False)
    np.testing.assert_allclose(served["serving_default"](images=tf.constant(source))["images"], expected, atol=1e-4)
    two_way = (folder / "generator_ba.keras").exists()
    from_uint8 = served["a_to_b_uint8" if two_way else "serving_default_uint8"]
    uint8 = from_uint8(images=tf.constant(data.a.images[:3]))["images_uint8"]
    assert uint8.dtype == tf.uint8 and uint8.shape == data.a.images[:3].shape
    if two_way:
        import keras

        back = keras.models.load_model(folder / "generator_ba.keras")
        target = data.b.images[:3].astype(np.float32) / 127.5 - 1
        np.testing.assert_allclose(served["b_to_a"](images=tf.constant(target))["images"],
                                   back(target, training=False), atol=1e-4)
    scores = json.loads((folder / "scores.json").read_text())
    assert scores["training_command"] == json.loads((folder / "metadata.json").read_text())["command"]
