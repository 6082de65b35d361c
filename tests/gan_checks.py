"""Checks every architecture's test file runs on its own model.

* ``assert_train_step_updates_both_players``: one ``train_on_batch`` changes
  every trainable weight of both networks (but those named as exempt).
* ``assert_each_step_updates_only_its_player``: a discriminator step leaves
  the generator's trainable weights alone, and the other way round.

* ``assert_replicas_match``: one ``fit`` step on two replicas
  (MirroredStrategy over the two logical CPUs of conftest.py) gives the same
  weights as on one device with the same global batch and noise.
* ``assert_generator_round_trip``: ``.keras`` save/load gives the same class
  and outputs.
* ``assert_served_without_zoo``: the exported SavedModel runs in a fresh
  Python in which ``zoo`` cannot be imported, with the same outputs.
"""

import json
import os
import subprocess
import sys
import textwrap
import threading

import keras
import numpy as np
import tensorflow as tf

from zoo import export
from zoo.core import replicas


class FixedNoise:
    """Replace a model's ``sample_latent`` with fixed global noise.

    Call ``k`` within a train step (counted per replica thread, since
    MirroredStrategy traces each replica in its own thread) takes
    ``noises[k]``, sliced to this replica's share of the global batch, so
    that every example sees the same noise on one replica or on several.
    """

    def __init__(self, model, noises):
        self.noises = [tf.constant(n) for n in noises]
        self.local = threading.local()
        self.original = model.sample_latent
        model.sample_latent = self.sample_latent

    def sample_latent(self, batch_size):
        # Still advance the model's own stream, so the traced step keeps the
        # same operations (and synchronisation points) as in real training.
        self.original(batch_size)
        count = getattr(self.local, "count", 0)
        self.local.count = count + 1
        noise = self.noises[count % len(self.noises)]
        start = replicas.replica_id() * batch_size
        return noise[start : start + batch_size]


_STRATEGIES = {}


def mirrored(num_replicas):
    """One MirroredStrategy per replica count for the whole test session.

    A second strategy over the same devices would restart the collective
    instance keys, which the runtime has cached for the first one's
    all-reduces (shape mismatch errors that abort every later collective).
    """
    if num_replicas not in _STRATEGIES:
        devices = [f"/cpu:{i}" for i in range(num_replicas)]
        _STRATEGIES[num_replicas] = tf.distribute.MirroredStrategy(devices)
    return _STRATEGIES[num_replicas]


def values(variables):
    """Copies of the variables' current values."""
    return [np.array(v.numpy()) for v in variables]


def assert_train_step_updates_both_players(model, batch, exempt=()):
    """One ``train_on_batch``: finite losses; every trainable weight of both
    networks moves, except the paths in ``exempt`` (which must not).
    Returns the logs."""
    networks = (model.generator, model.discriminator)
    before = [values(network.trainable_weights) for network in networks]
    logs = model.train_on_batch(batch, return_dict=True)
    assert all(np.isfinite(v) for v in logs.values()), logs
    for network, start in zip(networks, before):
        for old, weight in zip(start, network.trainable_weights):
            if weight.path in exempt:
                np.testing.assert_array_equal(old, weight.numpy(), err_msg=weight.path)
            else:
                assert not np.array_equal(old, weight.numpy()), weight.path
    return logs


def assert_each_step_updates_only_its_player(model, real, condition=None):
    """``discriminator_step(real)`` changes only the discriminator's trainable
    weights, ``generator_step(real)`` only the generator's. (Running in
    training mode does move both networks' batch-norm statistics, as in any
    GAN: those are not trainable.)"""
    generator, discriminator = model.generator, model.discriminator
    g_before, d_before = values(generator.trainable_weights), values(discriminator.trainable_weights)
    model.discriminator_step(tf.constant(real), condition)
    for before, after in zip(g_before, generator.trainable_weights):
        np.testing.assert_array_equal(before, after.numpy(), err_msg=after.path)
    assert any(not np.array_equal(b, v.numpy()) for b, v in zip(d_before, discriminator.trainable_weights))
    d_before = values(discriminator.trainable_weights)
    model.generator_step(tf.constant(real), condition)
    for before, after in zip(d_before, discriminator.trainable_weights):
        np.testing.assert_array_equal(before, after.numpy(), err_msg=after.path)
    assert any(not np.array_equal(b, v.numpy()) for b, v in zip(g_before, generator.trainable_weights))


def _weights(model):
    return [np.array(w.numpy()) for w in model.weights]


def _optimizers(model):
    """``{role: optimizer}``: a GAN's roles, or Keras's one optimizer."""
    return model.optimizers or {"optimizer": model.optimizer}


def _optimizer_values(model):
    return [np.array(v.numpy()) for o in _optimizers(model).values() for v in o.variables]


def assert_replicas_match(make_model, batch, calls_per_step=2, atol=1e-5, steps=1, also=None, moving=None):
    """One (or ``steps``) SGD step(s) on 2 replicas == the same on 1 device.

    Compares every weight of the model (networks, EMA copies, histories, the
    step) and every optimizer variable, after checking that training moved
    most trainable weights (equal untouched weights would prove nothing).

    Args:
        make_model: ``() -> compiled model``, called inside a strategy scope;
            must build identical initial weights each time (seed it) and use
            an optimizer whose update scales with the gradient (SGD), so that
            a wrong loss scaling cannot hide behind Adam's normalisation.
        batch: the global batch: an array, or a tuple (images, condition).
        calls_per_step: how many times a train step calls ``sample_latent``
            (ignored for a model without noise).
        also: ``model -> list of arrays`` computed after training and
            compared too (BigGAN: the sampling generator's standing
            statistics).
        moving: ``model -> weights`` the step must move (default: all
            trainable weights; a phase that trains some networks only
            names theirs).
    """
    images = batch[0] if isinstance(batch, tuple) else batch
    global_batch = len(images)
    results = []
    for num_replicas in (1, 2):
        strategy = mirrored(num_replicas)
        with strategy.scope():
            model = make_model()
            if getattr(model, "latent_dim", 0):
                noises = [
                    rng_noise.astype("float32")
                    for rng_noise in np.random.default_rng(1).standard_normal(
                        (calls_per_step, global_batch, model.latent_dim)
                    )
                ]
                FixedNoise(model, noises)
        watched = moving(model) if moving else model.trainable_weights
        initial = values(watched)
        dataset = tf.data.Dataset.from_tensors(batch).repeat(steps)
        model.fit(dataset, epochs=1, verbose=0)
        assert int(model.step.numpy()) == steps
        moved = [
            not np.array_equal(before, after.numpy())
            for before, after in zip(initial, watched)
        ]
        assert len(moved) > 0 and sum(moved) >= len(moved) / 2, (
            f"only {sum(moved)} of {len(moved)} trainable weights moved: the check would be vacuous"
        )
        extra = [np.asarray(value) for value in also(model)] if also else []
        results.append((_weights(model) + extra, _optimizer_values(model)))
    (single, single_slots), (double, double_slots) = results
    assert len(single) == len(double) > 0
    assert len(single_slots) == len(double_slots) > 0
    for a, b in zip(single + single_slots, double + double_slots):
        np.testing.assert_allclose(a, b, atol=atol, rtol=1e-4)


def assert_generator_round_trip(generator, tmp_path, inputs):
    """``.keras`` round trip: same class, same config, same outputs."""
    path = os.path.join(tmp_path, "generator.keras")
    generator.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded) is type(generator)
    assert loaded.get_config() == generator.get_config()
    np.testing.assert_allclose(
        loaded(inputs, training=False), generator(inputs, training=False), atol=1e-5
    )
    return loaded


_SERVE_SCRIPT = textwrap.dedent(
    """
    import sys, json
    sys.modules["zoo"] = None  # make `import zoo` fail
    try:
        import zoo  # noqa
        raise SystemExit("zoo was importable")
    except ImportError:
        pass
    import numpy as np
    import tensorflow as tf
    args = json.loads(sys.argv[1])
    loaded = tf.saved_model.load(args["path"])
    serve = loaded.signatures["serving_default"]
    inputs = {k: tf.constant(np.load(v)) for k, v in args["inputs"].items()}
    out = serve(**inputs)
    np.save(args["out_images"], out["images"].numpy())
    np.save(args["out_uint8"], out["images_uint8"].numpy())
    if "sample" in loaded.signatures:
        sample = loaded.signatures["sample"]
        extra = {k: v[:3] for k, v in inputs.items() if k != "noise"}
        s1 = sample(num_images=tf.constant(3), seed=tf.constant(5), **extra)["images"]
        s2 = sample(num_images=tf.constant(3), seed=tf.constant(5), **extra)["images"]
        assert s1.shape[0] == 3 and np.array_equal(s1.numpy(), s2.numpy())
        np.save(args["out_sample"], s1.numpy())
    print("SERVED", sorted(loaded.signatures), out["images"].shape, out["images_uint8"].dtype.name)
    """
)


def assert_served_without_zoo(model, tmp_path, inputs):
    """Export ``model`` and run its SavedModel where ``zoo`` is not importable.

    ``serving_default`` must give what the model's export network gives, and
    (for models with noise) ``sample`` must equal ``model.generate(3,
    seed=5)`` for the first three conditions.

    Args:
        inputs: dict of serving inputs, e.g. ``{"noise": array}``,
            ``{"noise": ..., "labels": ...}`` or ``{"images": ...}``.
    """
    export_dir = export.save_generator(model, os.path.join(tmp_path, "export"))
    files = {}
    for name, value in inputs.items():
        files[name] = os.path.join(tmp_path, f"{name}.npy")
        np.save(files[name], value)
    args = {
        "path": os.path.join(export_dir, "saved_model"),
        "inputs": files,
        "out_images": os.path.join(tmp_path, "images.npy"),
        "out_uint8": os.path.join(tmp_path, "uint8.npy"),
        "out_sample": os.path.join(tmp_path, "sample.npy"),
    }
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [sys.executable, "-c", _SERVE_SCRIPT, json.dumps(args)],
        cwd=tmp_path,  # not the repo root, where zoo/ would be importable
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "SERVED" in result.stdout
    noise = inputs.get("noise")
    condition = next((v for k, v in inputs.items() if k != "noise"), None)
    expected = np.asarray(
        model.generate_from_noise(noise, condition, num_images=len(next(iter(inputs.values()))))
    )
    served = np.load(args["out_images"])
    np.testing.assert_allclose(served, expected, atol=1e-5)
    served_uint8 = np.load(args["out_uint8"])
    assert served_uint8.dtype == np.uint8
    np.testing.assert_array_equal(
        served_uint8, np.clip(np.round((expected + 1) * 127.5), 0, 255).astype(np.uint8)
    )
    # The `sample` signature draws the model's own prior: it equals
    # model.generate(num_images, seed=seed).
    if model.latent_dim:
        first = None if condition is None else condition[:3]
        np.testing.assert_allclose(
            np.load(args["out_sample"]), model.generate(3, seed=5, condition=first), atol=1e-5
        )
    else:
        assert not os.path.exists(args["out_sample"])
    with open(os.path.join(export_dir, "metadata.json")) as f:
        return export_dir, json.load(f)


class Killed(Exception):
    """Raised by ``KillAt``: a run stopped as if killed."""


class KillAt(keras.callbacks.Callback):
    """Stops training (raises ``Killed``) right after global step ``step``,
    before the checkpointer sees it."""

    def __init__(self, step):
        super().__init__()
        self.step = step

    def on_train_batch_end(self, batch, logs=None):
        if int(self.model.step.numpy()) == self.step:
            raise Killed


def assert_resumes_exactly(make_model, make_stream, tmp_path, epochs=2, steps_per_epoch=3, kill_at=4, phases=None):
    """A run stopped at step ``kill_at`` (its last checkpoint two steps
    before) and resumed ends where an uninterrupted run ends: every weight,
    optimizer variable and random stream.

    Args:
        make_model: ``() -> compiled model`` (seeded: the same every call).
        make_stream: ``start_step -> tf.data.Dataset`` from that step on
            (with ``phases``: ``(phase index, step in phase) -> ...``).
        phases: resolved ``Phase`` objects to run instead of ``epochs`` of
            ``steps_per_epoch`` steps.
    """
    from zoo.training import fit_resumable

    def run(directory, callbacks=()):
        model = make_model()
        schedule = {"phases": phases} if phases else {"epochs": epochs, "steps_per_epoch": steps_per_epoch}
        fit_resumable(
            model, make_stream, **schedule,
            checkpoint_dir=str(directory), checkpoint_every=2, callbacks=list(callbacks), verbose=0,
        )
        return model

    straight = run(tmp_path / "straight")
    try:
        run(tmp_path / "killed", [KillAt(kill_at)])
    except Killed:
        pass
    else:
        raise AssertionError(f"the run ended before step {kill_at}")
    resumed = run(tmp_path / "killed")
    total = sum(phase.steps for phase in phases) if phases else epochs * steps_per_epoch
    assert int(straight.step.numpy()) == int(resumed.step.numpy()) == total
    assert len(straight.weights) == len(resumed.weights) > 0
    for a, b in zip(straight.weights, resumed.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6, err_msg=a.path)
    for role, optimizer in _optimizers(straight).items():
        for a, b in zip(optimizer.variables, _optimizers(resumed)[role].variables):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-7, err_msg=f"{role} {a.path}")
    for a, b in zip(straight.seed_states(), resumed.seed_states()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    return straight, resumed
