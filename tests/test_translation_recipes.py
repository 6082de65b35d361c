"""The image-to-image recipes as a user runs them, on the real emoji: train,
grid, export, evaluate, card; and clear one-line errors for bad folders."""

import json

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from conftest import shared_path
from test_recipe import run_recipe
from zoo import cards, evaluate
from zoo.data import translation


@pytest.fixture(scope="module")
def datasets_dir():
    return shared_path("datasets", "emoji").parent


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
