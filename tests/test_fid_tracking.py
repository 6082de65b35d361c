"""FID during training (``--fid_every``): the curve, the best checkpoint
exported, and a resume that neither loses nor repeats a point.

Scored with the shipped MNIST classifier's features (``--fid_network=
classifier``: the Inception network takes minutes on a CPU), on the MLP GAN.
The end-to-end runs (several recipe runs each) are marked slow; the flag
checks run by default.
"""

import json

import keras
import numpy as np
import pytest

from conftest import tensorboard_scalars
from test_recipe import run_recipe
from zoo.core.optimizers import optimizer_from_config
from zoo.models.gan import VanillaGAN


def fid_run(tmp_path, mnist_dir, name, epochs, *extra):
    code, out, err = run_recipe(
        f"--data_dir={mnist_dir}", "--batch_size=16", f"--epochs={epochs}", "--steps_per_epoch=8",
        "--checkpoint_every=3", "--fid_every=4", "--fid_network=classifier", "--fid_samples=100",
        f"--logdir={tmp_path}/{name}/run", f"--export_dir={tmp_path}/{name}/export", "--verbose=0",
        *extra, script="gan",
    )
    assert code == 0, out[-2000:] + err[-3000:]
    curve = json.loads((tmp_path / name / "run" / "fid_curve.json").read_text())
    return out, curve


def trained_model(weights_path, total_steps):
    """gan_mnist as the recipe builds it, with ``weights_path`` loaded."""
    config = VanillaGAN.preset_config("gan_mnist")["training"]
    model = VanillaGAN.from_preset("gan_mnist", seed=0)
    model.compile(**{key: optimizer_from_config(config[key], total_steps) for key in ("d_optimizer", "g_optimizer")})
    model.load_weights(weights_path)
    return model


@pytest.mark.slow
def test_curve_best_checkpoint_and_export(tmp_path, mnist_dir):
    out, curve = fid_run(tmp_path, mnist_dir, "straight", 2)
    points = curve["points"]
    # Every 4 steps, and the last step; wall time grows, scoring time is apart.
    assert [p["step"] for p in points] == [4, 8, 12, 16]
    assert curve["metric"] == "classifier_fid" and curve["num_samples"] == 100
    assert all(p["fid"] > 0 for p in points)
    for a, b in zip(points, points[1:]):
        assert b["seconds"] >= a["seconds"] and b["fid_seconds"] >= a["fid_seconds"]
    for p in points:
        assert p["train_seconds"] == pytest.approx(p["seconds"] - p["fid_seconds"], abs=0.11)
    best = min(points, key=lambda p: p["fid"])
    assert curve["best"]["step"] == best["step"] and curve["best"]["fid"] == best["fid"]
    best_files = list((tmp_path / "straight" / "run" / "best").iterdir())
    assert [f.name for f in best_files] == [f"ckpt-{best['step']:08d}.weights.h5"]

    # The export is the best step's generator, and says so.
    metadata = json.loads((tmp_path / "straight" / "export" / "metadata.json").read_text())
    assert metadata["selected_by_fid"]["step"] == best["step"] and metadata["final_step"] == 16
    assert metadata["step"] == best["step"]
    exported = keras.models.load_model(tmp_path / "straight" / "export" / "generator.keras")
    model = trained_model(best_files[0], total_steps=16)
    assert int(model.step.numpy()) == best["step"]
    for a, b in zip(exported.weights, model.generator.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert f"the step with the lowest FID, {best['step']}" in out


@pytest.mark.slow
def test_resume_measures_a_lost_point_and_drops_points_past_the_checkpoint(tmp_path, mnist_dir):
    _, straight = fid_run(tmp_path, mnist_dir, "straight", 2)
    # A run of one epoch ends at step 8, checkpointed and scored.
    _, first = fid_run(tmp_path, mnist_dir, "resumed", 1)
    assert [p["step"] for p in first["points"]] == [4, 8]
    path = tmp_path / "resumed" / "run" / "fid_curve.json"
    # Killed while scoring its last step: the same command, with no step
    # left to train, measures it.
    path.write_text(json.dumps({**first, "points": first["points"][:1],
                                "best": first["best"] if first["best"]["step"] == 4 else None}))
    out, again = fid_run(tmp_path, mnist_dir, "resumed", 1)
    assert "Already trained: step 8" in out
    assert [p["step"] for p in again["points"]] == [4, 8] and again["points"][0] == first["points"][0]
    assert again["points"][1]["fid"] == pytest.approx(first["points"][1]["fid"], rel=1e-6)
    # A curve measured otherwise is not mixed with this one.
    code, _, err = run_recipe(
        f"--data_dir={mnist_dir}", "--batch_size=16", "--epochs=1", "--steps_per_epoch=8", "--fid_every=4",
        "--fid_network=classifier", "--fid_samples=50", f"--logdir={tmp_path}/resumed/run",
        f"--export_dir={tmp_path}/resumed/export", script="gan")
    assert code == 2 and err.strip().splitlines()[-1].startswith(
        f"error: {path} was measured otherwise (num_samples 100 -> 50)")
    # As if it had been killed after step 8's checkpoint but before its
    # score, with a stray point from a later (deleted) checkpoint.
    first["points"] = first["points"][:1] + [{**first["points"][0], "step": 99}]
    path.write_text(json.dumps(first))
    out, resumed = fid_run(tmp_path, mnist_dir, "resumed", 2)
    assert "Resuming from step 8" in out
    assert [p["step"] for p in resumed["points"]] == [4, 8, 12, 16]
    # The same steps scored the same as a run that was never stopped.
    np.testing.assert_allclose([p["fid"] for p in resumed["points"]],
                               [p["fid"] for p in straight["points"]], rtol=1e-4)


def test_bad_fid_flags_are_one_line(tmp_path, mnist_dir):
    common = [f"--data_dir={mnist_dir}", f"--logdir={tmp_path}/run", f"--export_dir={tmp_path}/export"]
    code, _, err = run_recipe(*common, "--fid_every=-1", script="gan")
    assert code == 2 and err.strip().splitlines()[-1] == (
        "error: --fid_every must be >= 0 (0: no FID during training), got -1."
    )
    code, _, err = run_recipe(*common, "--fid_every=10", "--fid_samples=1", script="gan")
    assert code == 2 and err.strip().splitlines()[-1] == (
        "error: --fid_samples must be >= 2 (FID needs a covariance), got 1."
    )
    # A model that does not generate from noise is not scored this way.
    code, _, err = run_recipe(*common, "--fid_every=10", script="pix2pix")
    assert code == 2 and err.strip().splitlines()[-1].startswith(
        "error: --fid_every scores generators of noise (and class labels); pix2pix generates from image inputs"
    )
    code, _, err = run_recipe(*common, "--fid_every=10", "--fid_network=classifier", "--dataset=cifar10",
                              "--preset=dcgan_cifar10", script="dcgan")
    assert code == 2 and err.strip().splitlines()[-1].startswith(
        "error: --fid_network=classifier needs a dataset with a shipped classifier (mnist, fashion_mnist)"
    )


@pytest.mark.slow
def test_scoring_time_is_left_out_of_the_checkpoints_clock(tmp_path, mnist_dir):
    from zoo.training.checkpoints import Checkpointer

    checkpointer = Checkpointer(str(tmp_path))
    before = checkpointer.seconds_trained()
    checkpointer.exclude(100.0)
    assert checkpointer.seconds_trained() == pytest.approx(before - 100.0, abs=0.5)
    # In a run: the last checkpoint's clock is the last point's training
    # time (saved just before its score), and the curve's wall time adds
    # every score's time to it.
    _, curve = fid_run(tmp_path, mnist_dir, "run", 2)
    index = json.loads((tmp_path / "run" / "run" / "checkpoints" / "checkpoint.json").read_text())
    last = curve["points"][-1]
    assert index["step"] == last["step"] == 16
    assert index["seconds"] == pytest.approx(last["train_seconds"], abs=0.5)
    assert last["seconds"] == pytest.approx(last["train_seconds"] + last["fid_seconds"], abs=0.11)
    # TensorBoard has the same curve, in the run's own folder.
    logged = tensorboard_scalars(tmp_path / "run" / "run", curve["metric"])
    assert sorted(logged) == [p["step"] for p in curve["points"]]
    np.testing.assert_allclose([logged[p["step"]] for p in curve["points"]],
                               [p["fid"] for p in curve["points"]], rtol=1e-6)


def test_preparing_the_scorer_is_left_out_of_the_training_clock(tmp_path, mnist_dir, monkeypatch):
    # A fresh run's first FID point once counted the minutes of computing
    # the real images' features (uncached) as training time.
    from zoo.metrics import FIDCallback
    from zoo.training.checkpoints import Checkpointer
    from zoo.training.fid_tracking import FIDTracker

    monkeypatch.setenv("ZOO_CACHE_DIR", str(tmp_path / "cache"))
    scorer = FIDCallback("classifier", dataset="mnist", data_dir=mnist_dir, num_real=500, num_samples=10)
    checkpointer = Checkpointer(str(tmp_path / "checkpoints"))
    tracker = FIDTracker(scorer, tmp_path, every=4, final_step=8, checkpointer=checkpointer)
    before = checkpointer.seconds_trained()
    tracker.prepare()
    assert list((tmp_path / "cache" / "real_features").iterdir())  # the features were computed, not read
    assert checkpointer.seconds_trained() - before == pytest.approx(0.0, abs=0.05)
