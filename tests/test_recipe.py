"""The recipes as a user runs them: train, log, checkpoint, resume after
SIGKILL with no lost or repeated step, export; and clear errors for bad input."""

import json
import os
import signal
import subprocess
import sys
import time

import zoo  # noqa: F401
import keras
import numpy as np
import pytest
import tensorflow as tf
from absl import flags

from zoo import data, training
from zoo.core.optimizers import optimizer_from_config
from zoo.training import recipe
from zoo.training.checkpoints import Checkpointer
from zoo.models.dcgan import DCGAN, DCGANDiscriminator, DCGANGenerator

from conftest import REPO, shared_path


def recipe_command(name, mnist_dir, out, *extra):
    return [
        sys.executable,
        str(REPO / "recipes" / f"{name}.py"),
        f"--data_dir={mnist_dir}",
        "--batch_size=16",
        "--epochs=2",
        "--steps_per_epoch=10",
        "--checkpoint_every=4",
        "--log_every=2",
        f"--logdir={out}/run",
        f"--export_dir={out}/export",
        "--verbose=0",
        *extra,
    ]


def run_to_end(command):
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=REPO)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    return result.stdout


def exported_weights(out):
    generator = keras.models.load_model(os.path.join(out, "export", "generator.keras"))
    return generator, [w.numpy() for w in generator.weights]


def checkpoint_state(out):
    """The current checkpoint of a run: its index (step, random streams) and
    every array of its weights file (both networks, both optimizers, the
    step), by path."""
    import h5py

    directory = out / "run" / "checkpoints"
    index = json.loads((directory / "checkpoint.json").read_text())
    arrays = {}

    def keep(name, item):
        if isinstance(item, h5py.Dataset):
            arrays[name] = item[()]

    with h5py.File(directory / index["weights"]) as stored:
        stored.visititems(keep)
    return index, arrays


def test_killed_run_resumes_with_no_lost_or_repeated_step(tmp_path, mnist_dir):
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    run_to_end(recipe_command("dcgan", mnist_dir, straight))

    # Kill the second run with SIGKILL once it has checkpointed past step 8,
    # wherever it is (mid-step, mid-write), then start it again unchanged.
    command = recipe_command("dcgan", mnist_dir, killed)
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    index = killed / "run" / "checkpoints" / "checkpoint.json"
    deadline = time.time() + 300
    while time.time() < deadline and process.poll() is None:
        if index.exists() and json.loads(index.read_text())["step"] >= 8:
            break
        time.sleep(0.05)
    assert process.poll() is None, "the run ended before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    killed_at = json.loads(index.read_text())["step"]
    assert 8 <= killed_at < 20
    assert not (killed / "export").exists()

    output = run_to_end(command)
    assert f"Resuming from step {killed_at}" in output
    assert "Trained to step 20" in output

    _, expected = exported_weights(straight)
    generator, got = exported_weights(killed)
    assert len(expected) == len(got) > 0
    for a, b in zip(expected, got):
        np.testing.assert_allclose(a, b, atol=1e-5)
    # The whole training state ends the same: both networks, both
    # optimizers' slots and counters, the step, the random streams.
    straight_index, straight_state = checkpoint_state(straight)
    killed_index, killed_state = checkpoint_state(killed)
    assert straight_index["step"] == killed_index["step"] == 20
    assert straight_index["seed_states"] == killed_index["seed_states"]
    assert straight_state.keys() == killed_state.keys()
    for part in ("discriminator", "d_optimizer", "g_optimizer"):
        assert any(name.startswith(part) for name in straight_state), part
    for name, value in straight_state.items():
        np.testing.assert_allclose(killed_state[name], value, atol=1e-5, err_msg=name)
    metadata = json.loads((killed / "export" / "metadata.json").read_text())
    assert metadata["step"] == 20 and metadata["architecture"] == "dcgan"

    # The fixed-noise grid continues: same images at the same steps.
    for step in (10, 20):
        name = f"step_{step:08d}.png"
        a = tf.io.decode_png(tf.io.read_file(str(straight / "run" / "samples" / name)))
        b = tf.io.decode_png(tf.io.read_file(str(killed / "run" / "samples" / name)))
        assert a.shape == (8 * 28, 8 * 28, 1)
        assert np.abs(a.numpy().astype(int) - b.numpy().astype(int)).max() <= 1

    # TensorBoard has every loss as a scalar and the grid as an image.
    events = [f for f in os.listdir(straight / "run") if f.startswith("events")]
    tags = set()
    for event_file in events:
        for record in tf.compat.v1.train.summary_iterator(str(straight / "run" / event_file)):
            tags.update(v.tag for v in record.summary.value)
    assert {"d_loss", "g_loss", "samples"} <= tags

    # A finished run started again does nothing more.
    assert "Already trained: step 20" in run_to_end(command)


@pytest.fixture
def parse_flags():
    def parse(*argv):
        flags.FLAGS.unparse_flags()
        flags.FLAGS(["recipe", *argv])

    yield parse
    flags.FLAGS.unparse_flags()


def test_unknown_dataset_is_named(parse_flags, tmp_path):
    parse_flags("--dataset=mnits", f"--logdir={tmp_path}")
    with pytest.raises(data.DatasetError, match="mnits"):
        recipe.run("dcgan", "dcgan_mnist")


def test_dataset_that_does_not_match_the_model(parse_flags, tmp_path, mnist_dir):
    # 28x28 grayscale MNIST into the 32x32 RGB CIFAR-10 preset.
    parse_flags("--dataset=mnist", f"--data_dir={mnist_dir}", f"--logdir={tmp_path}")
    with pytest.raises(data.DatasetError, match=r"\(28, 28, 1\).*\(32, 32, 3\)"):
        recipe.run("dcgan", "dcgan_cifar10")


def digit_folder(tmp_path, count):
    """A folder of ``count`` real MNIST test digits as PNG files."""
    folder = tmp_path / "digits"
    folder.mkdir()
    images, _ = data.load_arrays("mnist", "test", shared_path("datasets", "mnist"))
    for i in range(count):
        tf.io.write_file(str(folder / f"{i}.png"), tf.io.encode_png(images[i]))
    return folder


def test_batch_larger_than_the_dataset(parse_flags, tmp_path):
    folder = digit_folder(tmp_path, 4)
    parse_flags(f"--dataset={folder}", "--batch_size=8", f"--logdir={tmp_path}/run")
    with pytest.raises(data.DatasetError, match="batch_size 8 is larger than the dataset .4"):
        recipe.run("dcgan", "dcgan_mnist")


def test_nan_loss_stops_naming_the_step_and_keeps_the_last_checkpoint(tmp_path):
    keras.utils.set_random_seed(0)
    model = DCGAN(
        DCGANGenerator((28, 28, 1), latent_dim=8, base_filters=4),
        DCGANDiscriminator((28, 28, 1), base_filters=4),
        seed=0,
    )
    model.compile()
    good = np.random.default_rng(0).uniform(-1, 1, (8, 28, 28, 1)).astype("float32")
    poisoned_step = 7

    def make_stream(start_step):
        def batches():
            step = start_step
            while True:
                yield good * np.float32("nan") if step == poisoned_step else good
                step += 1

        spec = tf.TensorSpec((8, 28, 28, 1), tf.float32)
        return tf.data.Dataset.from_generator(batches, output_signature=spec)

    checkpoints = str(tmp_path / "checkpoints")
    with pytest.raises(FloatingPointError, match=f"d_loss is nan at step {poisoned_step + 1}"):
        training.fit_resumable(
            model,
            make_stream,
            epochs=3,
            steps_per_epoch=5,
            checkpoint_dir=checkpoints,
            checkpoint_every=3,
            verbose=0,
        )
    # Steps 3, 5 (epoch end) and 6 were saved; the NaN step (8) never was.
    checkpointer = Checkpointer(checkpoints)
    assert checkpointer.latest()["step"] == 6
    fresh = DCGAN.from_config(model.get_config())
    fresh.compile()
    assert checkpointer.restore(fresh) == 6
    assert all(np.isfinite(w.numpy()).all() for w in fresh.weights)


def test_checkpointer_refuses_non_finite_weights(tmp_path):
    model = DCGAN(
        DCGANGenerator((28, 28, 1), latent_dim=8, base_filters=4),
        DCGANDiscriminator((28, 28, 1), base_filters=4),
    )
    model.compile()
    checkpointer = Checkpointer(str(tmp_path))
    checkpointer.save(model)
    model.generator.get_layer("project").kernel.assign(
        np.full(model.generator.get_layer("project").kernel.shape, np.inf, "float32")
    )
    model.step_counter.assign(1)
    with pytest.raises(FloatingPointError, match="step 1: non-finite values in project/kernel"):
        checkpointer.save(model)
    assert checkpointer.latest()["step"] == 0


def test_technique_flags_reach_the_model(parse_flags, tmp_path, mnist_dir):
    parse_flags(
        f"--data_dir={mnist_dir}", f"--logdir={tmp_path}/run", f"--export_dir={tmp_path}/export",
        "--epochs=1", "--steps_per_epoch=2", "--batch_size=8", "--verbose=0",
        "--ema_decay=0.9", "--augment=translation",
    )
    model = recipe.run("gan", "gan_mnist")
    assert model.ema_decay == 0.9 and model.augment == "translation"
    metadata = json.loads((tmp_path / "export" / "metadata.json").read_text())
    assert metadata["step"] == 2
    exported = keras.models.load_model(tmp_path / "export" / "generator.keras")
    np.testing.assert_allclose(
        exported.get_weights()[0], model.ema_generator.get_weights()[0], atol=1e-6
    )


@pytest.mark.slow  # WGAN's in-process test of grouped real batches runs by default
def test_critic_updates_get_fresh_real_batches_in_the_recipe(parse_flags, tmp_path):
    # WGAN-GP: 5 critic updates per step, each on its own real batch, so an
    # epoch of 40 images at batch 4 is 40 // (4 x 5) = 2 generator updates.
    folder = digit_folder(tmp_path, 40)
    parse_flags(
        f"--dataset={folder}", f"--logdir={tmp_path}/run", f"--export_dir={tmp_path}/export",
        "--epochs=1", "--batch_size=4", "--verbose=0",
    )
    model = recipe.run("wgan_gp", "wgan_gp_mnist")
    assert model.real_batches_per_step == 5
    assert int(model.g_optimizer.iterations.numpy()) == 2 and int(model.step.numpy()) == 2
    assert int(model.d_optimizer.iterations.numpy()) == 10
    metadata = json.loads((tmp_path / "export" / "metadata.json").read_text())
    assert (metadata["step"], metadata["steps_per_epoch"], metadata["real_batches_per_step"]) == (2, 2, 5)


def _free_ports(count):
    import socket

    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("localhost", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@pytest.mark.slow  # two processes; MirroredStrategy runs by default
def test_two_worker_multiworker_run_equals_two_replica_mirrored_run(tmp_path, mnist_dir):
    # MultiWorkerMirroredStrategy for real: two worker processes on this
    # machine, talking over localhost, as a cluster would. Worker 0 is the
    # chief and writes; the run must end where the 2-replica MirroredStrategy
    # run of the same recipe ends (same global batches, same noise per replica).
    mirrored_out, multi_out = tmp_path / "mirrored", tmp_path / "multi"
    run_to_end(recipe_command("dcgan", mnist_dir, mirrored_out, "--strategy=mirrored", "--cpu_replicas=2"))

    workers = [f"localhost:{port}" for port in _free_ports(2)]
    command = recipe_command("dcgan", mnist_dir, multi_out, "--strategy=multiworker")
    processes = []
    for index in range(2):
        tf_config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        env = dict(os.environ, TF_CONFIG=json.dumps(tf_config))
        processes.append(
            subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        )
    outputs = []
    for process in processes:
        stdout, stderr = process.communicate(timeout=600)
        assert process.returncode == 0, stdout[-2000:] + stderr[-4000:]
        outputs.append(stdout)
    assert "over 2 replica(s)" in outputs[0] and "Trained to step 20" in outputs[0]
    metadata = json.loads((multi_out / "export" / "metadata.json").read_text())
    assert metadata["step"] == 20
    checkpoint = json.loads((multi_out / "run" / "checkpoints" / "checkpoint.json").read_text())
    assert checkpoint["step"] == 20

    _, expected = exported_weights(mirrored_out)
    _, got = exported_weights(multi_out)
    assert len(expected) == len(got) > 0
    for a, b in zip(expected, got):
        np.testing.assert_allclose(a, b, atol=1e-4)


def run_short_recipe(script, tmp_path, data_dir, *args):
    """Two steps of ``recipes/<script>.py`` at batch 4, logs in
    ``tmp_path/run``, the export in ``tmp_path/export``."""
    return run_recipe(
        f"--data_dir={data_dir}", "--epochs=1", "--steps_per_epoch=2", "--batch_size=4", f"--logdir={tmp_path}/run",
        f"--export_dir={tmp_path}/export", "--verbose=0", *args, script=script,
    )


def run_recipe(*args, module=None, script="dcgan"):
    """A recipe (or ``python -m module``) as a user runs it: (return code,
    stdout, stderr)."""
    command = [sys.executable, "-m", module] if module else [sys.executable, str(REPO / "recipes" / f"{script}.py")]
    result = subprocess.run([*command, *args], capture_output=True, text=True, timeout=600, cwd=REPO)
    return result.returncode, result.stdout, result.stderr


# Each case starts a recipe (about 9 s of TensorFlow import); the default run
# keeps one of each kind of check (a flag's range, the data, the preset against
# the data, the strategy), the rest run with -m slow.
BAD_INPUT = [
    (["--batch_size=0"], "--batch_size must be >= 1, got 0"),
    pytest.param(["--epochs=-2"], "--epochs must be >= 1, got -2", marks=pytest.mark.slow),
    pytest.param(["--ema_decay=1.5"], "--ema_decay must be in [0, 1)", marks=pytest.mark.slow),
    (["--dataset=mnits"], "unknown dataset 'mnits'"),
    (["--preset=dcgan_cifar10", "--dataset=mnist"], "(28, 28, 1) but image_shape (32, 32, 3)"),
    (["--strategy=mirrored", "--cpu_replicas=2", "--batch_size=3"],
     "--batch_size of 3 does not divide evenly over 2 replicas; use a multiple of 2"),
    pytest.param(["--preset=wgan_mnist"], "Unknown preset 'wgan_mnist' for DCGAN", marks=pytest.mark.slow),
    pytest.param(["extra"], "Unexpected arguments: extra", marks=pytest.mark.slow),
]


@pytest.mark.parametrize("extra, message", BAD_INPUT)
def test_bad_input_is_one_line_naming_the_problem_and_a_nonzero_exit(tmp_path, mnist_dir, extra, message):
    common = [f"--data_dir={mnist_dir}", f"--logdir={tmp_path}/run", f"--export_dir={tmp_path}/export"]
    code, _, stderr = run_recipe(*common, *extra)
    last = stderr.strip().splitlines()[-1]
    assert code == 2, (extra, stderr[-2000:])
    assert "Traceback" not in stderr, stderr[-2000:]
    assert last.startswith("error: ") and message in last, (extra, last)
    assert not (tmp_path / "export").exists()


def test_one_entry_point_trains_any_architecture(tmp_path, mnist_dir):
    common = [f"--data_dir={mnist_dir}", "--epochs=1", "--steps_per_epoch=2", "--batch_size=8", "--verbose=0"]
    code, stdout, stderr = run_recipe(
        "gan", *common, f"--logdir={tmp_path}/a", f"--export_dir={tmp_path}/a_export", module="zoo.train"
    )
    assert code == 0, stderr[-3000:]
    assert "gan (gan_mnist)" in stdout and "Trained to step 2" in stdout
    assert json.loads((tmp_path / "a_export" / "metadata.json").read_text())["architecture"] == "gan"
    # The preset alone names the architecture.
    code, stdout, stderr = run_recipe(
        "--preset=gan_mnist_minimax", *common, f"--logdir={tmp_path}/b",
        f"--export_dir={tmp_path}/b_export", module="zoo.train",
    )
    assert code == 0 and "gan (gan_mnist_minimax)" in stdout, stderr[-3000:]
    code, _, stderr = run_recipe("stylegan9", module="zoo.train")
    assert code == 2 and stderr.strip().splitlines()[-1].startswith("error: Unknown architecture 'stylegan9'")


def test_a_diverging_run_ends_with_one_line_and_exit_code_1(tmp_path, mnist_dir):
    # A learning rate far too large makes the losses non-finite.
    code, _, stderr = run_recipe(
        f"--data_dir={mnist_dir}", "--epochs=1", "--steps_per_epoch=40", "--batch_size=8",
        "--d_learning_rate=1e30", "--g_learning_rate=1e30", "--checkpoint_every=1",
        f"--logdir={tmp_path}/run", f"--export_dir={tmp_path}/export", "--verbose=0", script="gan",
    )
    last = stderr.strip().splitlines()[-1]
    assert code == 1 and "Traceback" not in stderr, stderr[-2000:]
    assert last.startswith("error: ") and "at step" in last and "resume" in last, last
    assert not (tmp_path / "export").exists()  # nothing diverged is exported


def test_error_messages_name_only_flags_that_exist():
    # Every --flag the zoo's messages and docs mention is one of the recipes'
    # or of a zoo command-line tool's (zoo.evaluate, zoo.cards, the classifier
    # trainer, ...): every module that declares argparse options counts.
    import re

    known = set(flags.FLAGS) | {"flags"}  # "--flags": the placeholder in usage lines
    tools = [path for path in (REPO / "zoo").rglob("*.py") if "add_argument(" in path.read_text()]
    assert {"evaluate.py", "cards.py", "train_classifier.py"} <= {path.name for path in tools}
    for tool in tools:
        known |= set(re.findall(r'add_argument\(\s*"--(\w+)"', tool.read_text()))
    mentioned = {}
    for path in (REPO / "zoo").rglob("*.py"):
        for flag in re.findall(r"(?<![\w-])--([a-z][a-z0-9_]*)", path.read_text()):
            mentioned.setdefault(flag, path.relative_to(REPO))
    unknown = {flag: str(where) for flag, where in mentioned.items() if flag not in known}
    assert not unknown, unknown
    assert {"logdir", "batch_size", "num_classes"} <= set(mentioned)


def test_presets_that_need_resizing_say_so():
    # CelebA's 178x218 photographs only fit dcgan_64 centre-cropped and resized.
    assert zoo.get("dcgan").preset_config("dcgan_64")["training"]["resize"] is True


def test_non_chief_workers_keep_no_files(tmp_path, monkeypatch):
    # Worker 1 of a two-worker job takes part in every save (collectives),
    # but keeps nothing: no checkpoint, no logs, no leftover scratch folder.
    import tempfile

    from zoo.training.callbacks import TensorBoardLogger

    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.setenv(
        "TF_CONFIG",
        json.dumps({"cluster": {"worker": ["localhost:1", "localhost:2"]}, "task": {"type": "worker", "index": 1}}),
    )
    model = DCGAN(
        DCGANGenerator((28, 28, 1), latent_dim=8, base_filters=4),
        DCGANDiscriminator((28, 28, 1), base_filters=4),
        seed=0,
    )
    model.compile()
    checkpointer = Checkpointer(str(tmp_path / "checkpoints"))
    logger = TensorBoardLogger(str(tmp_path / "logs"), scalar_every=1, num_samples=4)
    logger.set_model(model)
    batch = np.random.default_rng(0).uniform(-1, 1, (4, 28, 28, 1)).astype("float32")
    for _ in range(3):
        logs = model.train_on_batch(batch, return_dict=True)
        checkpointer.save(model)
        logger.on_train_batch_end(0, logs)
    logger.on_epoch_end(0)
    logger.on_train_end()
    assert list(scratch.iterdir()) == []
    assert not (tmp_path / "checkpoints").exists() and not (tmp_path / "logs").exists()


def test_every_presets_optimizers_build():
    # What the recipe compiles, for every preset of every architecture: a
    # schedule the preset names must be registered and get its length.
    for name in zoo.names():
        model_class = zoo.get(name)
        for preset in model_class.presets:
            settings = model_class.preset_config(preset)["training"]
            for role, config in settings.items():
                if role.endswith("_optimizer"):
                    optimizer = optimizer_from_config(config, 1000)
                    assert float(optimizer.learning_rate) > 0, (preset, role)
