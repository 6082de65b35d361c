"""PixelRNN and PixelCNN (van den Oord et al. 2016): no output sees its own
or a later sub-pixel (gradients), the skew round trip, the likelihood
against a hand computation, sampling and completion in one tf.function,
resume, replicas, serving, presets."""

import math

import numpy as np
import pytest
import tensorflow as tf

import keras
import zoo
from zoo.core.errors import ConfigError
from zoo.models.pixelrnn import (
    VARIANTS,
    PixelNetwork,
    PixelRNN,
    binarize,
    causal_mask,
    channel_groups,
    log_likelihood,
    skew,
    unskew,
)

from gan_checks import assert_replicas_match, assert_resumes_exactly


def small_model(variant="diagonal_bilstm", shape=(6, 6, 1), levels=2, seed=0, optimizer=None):
    keras.utils.set_random_seed(seed)
    # For RGB, sizes that are not multiples of 3 (2h = 10: groups of 4, 3, 3).
    hidden, output = (5, 8) if shape[-1] == 3 else (4, 8)
    model = PixelRNN(PixelNetwork(shape, variant, num_layers=2, hidden=hidden, output_hidden=output,
                                  levels=levels), seed=seed)
    model.compile(optimizer=optimizer() if optimizer else None)
    return model


def values(count, shape=(6, 6, 1), levels=2, seed=0):
    return np.random.default_rng(seed).integers(0, levels, (count,) + shape).astype("int32")


def test_mask_a_hides_the_centre_and_mask_b_shows_it_in_colour_order():
    a = causal_mask((3, 3), 3, 3, "A", groups=3)
    b = causal_mask((3, 3), 3, 3, "B", groups=3)
    assert a[0].all() and not a[2].any() and a[1, 0].all() and not a[1, 2].any()
    # Centre: out R sees nothing (A) or R (B); out B sees R, G (A) or R, G, B.
    np.testing.assert_array_equal(a[1, 1], [[0, 1, 1], [0, 0, 1], [0, 0, 0]])
    np.testing.assert_array_equal(b[1, 1], [[1, 1, 1], [0, 1, 1], [0, 0, 1]])


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("channels", [1, pytest.param(3, marks=pytest.mark.slow)])
def test_no_output_depends_on_its_own_or_a_later_subpixel(variant, channels):
    # d logits(i) / d input(j) == 0 for every j >= i in raster order (rows,
    # columns, then R, G, B); and each output depends on some earlier input.
    shape = (5, 5, channels)
    model = small_model(variant, shape, levels=3)
    network = model.network
    # From the scaled input (floats, so that gradients exist) to the logits,
    # and to the residual stream (before the ReLUs, which can be dead at a
    # position of a small random network).
    body = keras.Model(
        network.get_layer("input_conv").input,
        [network.output, network.get_layer("residual2").output],
    )
    x = tf.random.normal((1,) + shape, seed=1)
    positions = [(r, c, k) for r in range(5) for c in range(5) for k in range(channels)]
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        logits, stream = body(x)
        outputs = [tf.reduce_sum(logits[0, r, c, k]) for r, c, k in positions]
        # The stream's channels of colour group k (near-equal contiguous blocks).
        group = channel_groups(stream.shape[-1], channels)
        streams = [tf.reduce_sum(tf.boolean_mask(stream[0, r, c], group == k)) for r, c, k in positions]
    for index, (output, hidden) in enumerate(zip(outputs, streams)):
        for value, what in ((output, "logits"), (hidden, "stream")):
            gradient = np.abs(tape.gradient(value, x).numpy()[0]).reshape(-1)  # raster order
            assert not gradient[index:].any(), (
                f"{variant} {what}: output {index} sees inputs {np.nonzero(gradient[index:])[0] + index}"
            )
        if index > 0:
            gradient = np.abs(tape.gradient(hidden, x).numpy()[0]).reshape(-1)
            assert gradient[:index].any(), f"{variant}: output {index} sees nothing"


def test_diagonal_bilstm_sees_above_right_where_the_row_lstm_does_not():
    # Output (row 3, column 0) and input (row 0, column 11): inside the
    # Diagonal BiLSTM's field (everything above), outside the Row LSTM's
    # triangle (the 7x7 first layer reaches 3 columns to the right, and each
    # of the rows between adds at most one per recurrent layer).
    reach = {}
    for variant in ("diagonal_bilstm", "row_lstm"):
        model = small_model(variant, (4, 12, 1))
        body = keras.Model(model.network.get_layer("input_conv").input, model.network.get_layer("residual2").output)
        x = tf.random.normal((1, 4, 12, 1), seed=2)
        with tf.GradientTape() as tape:
            tape.watch(x)
            output = tf.reduce_sum(body(x)[0, 3, 0])
        reach[variant] = float(tf.abs(tape.gradient(output, x)[0, 0, 11, 0]))
    assert reach["diagonal_bilstm"] > 0 and reach["row_lstm"] == 0


def test_skew_and_unskew_round_trip():
    images = tf.reshape(tf.range(2 * 4 * 5 * 3, dtype=tf.float32), (2, 4, 5, 3))
    skewed = skew(images)
    assert skewed.shape == (2, 4, 8, 3)
    np.testing.assert_array_equal(skewed[:, 2, 2:7], images[:, 2])  # row 2 starts 2 to the right
    assert not skewed[:, 2, :2].numpy().any()
    np.testing.assert_array_equal(unskew(skewed, 5), images)


def test_log_likelihood_and_the_units_match_a_hand_computation():
    logits = np.zeros((1, 2, 1, 1, 4), np.float32)
    logits[0, 0, 0, 0] = [math.log(1), math.log(1), math.log(2), 0.0]  # p(2) = 2/(1+1+2+1)
    images = np.array([2, 0]).reshape(1, 2, 1, 1)
    expected = math.log(2 / 5) + math.log(1 / 4)  # the second pixel is uniform
    np.testing.assert_allclose(log_likelihood(images, logits), [expected], rtol=1e-6)
    model = small_model("pixelcnn", (6, 6, 1))
    batch = values(8)
    logs = model.train_on_batch(batch, batch, return_dict=True)
    # The loss is nats per sub-pixel; the metric nats per image (36 sub-pixels).
    np.testing.assert_allclose(logs["nats_per_image"], 36 * logs["loss"], rtol=1e-5)


def test_sampling_is_reproducible_and_completion_keeps_the_given_rows():
    model = small_model("row_lstm", (4, 4, 3), levels=4)
    first, again = model.generate(3, seed=7), model.generate(3, seed=7)
    np.testing.assert_array_equal(first, again)
    assert first.shape == (3, 4, 4, 3) and first.min() >= 0 and first.max() < 4
    assert not np.array_equal(first, model.generate(3, seed=8))
    # In chunks of batch_size: the first chunk is the unchunked draw, the
    # others differ from it (their seeds are folded with the chunk index).
    chunked = model.generate(5, seed=7, batch_size=2)
    assert chunked.shape == (5, 4, 4, 3)
    np.testing.assert_array_equal(chunked[:2], model.generate(2, seed=7))
    assert not np.array_equal(chunked[2:4], chunked[:2])
    given = values(2, (4, 4, 3), levels=4, seed=3)
    completed = model.complete(given, rows=2, seed=1)
    np.testing.assert_array_equal(completed[:, :2], given[:, :2])
    with pytest.raises(ConfigError, match=r"in \[0, 4\)"):
        model.log_prob(given + 4)


def test_the_while_loop_draws_what_a_python_loop_over_the_subpixels_draws():
    # The tf.while_loop inside one tf.function is the same sampler as the
    # naive loop (one eager network call per sub-pixel), only faster.
    model = small_model("pixelcnn", (3, 3, 3), levels=4)
    canvas = np.zeros((2, 3, 3, 3), np.int32)
    seed = tf.constant([5, 0], tf.int64)
    for index in range(27):
        r, c, k, draws = model.draw_subpixel(canvas, index, seed)
        canvas[:, r, c, k] = draws.numpy()
    np.testing.assert_array_equal(model.generate(2, seed=5), canvas)


def test_a_killed_run_resumes_exactly(tmp_path):
    from zoo.data.stream import _index_batches

    data = values(24, seed=5)

    def stream(start):
        indices = _index_batches(24, 4, 6, True, 0, start // 6, True).skip(start % 6)
        return indices.map(lambda i: (tf.gather(data, i), tf.gather(data, i)))

    assert_resumes_exactly(lambda: small_model("row_lstm"), stream, tmp_path)


def test_two_replicas_match_one_device():
    batch = values(4, seed=6)
    assert_replicas_match(
        lambda: small_model("diagonal_bilstm", seed=3, optimizer=lambda: keras.optimizers.SGD(0.1)),
        (batch, batch), steps=2,
    )


def test_the_saved_model_samples_scores_and_completes_without_the_zoo(tmp_path):
    import subprocess
    import sys
    import textwrap

    from zoo import export

    model = small_model("pixelcnn", (4, 4, 1))
    export_dir = export.save_generator(model, tmp_path / "export")
    batch = values(3, (4, 4, 1), seed=4)
    np.save(tmp_path / "batch.npy", batch)
    script = textwrap.dedent(f"""
        import sys; sys.modules["zoo"] = None
        import numpy as np, tensorflow as tf
        loaded = tf.saved_model.load("{export_dir}/saved_model")
        batch = tf.constant(np.load("{tmp_path}/batch.npy"))
        np.save("{tmp_path}/log_prob.npy", loaded.signatures["log_prob"](images=batch)["log_prob"].numpy())
        sample = loaded.signatures["sample"](num_images=tf.constant(2), seed=tf.constant(9))
        np.save("{tmp_path}/sample.npy", sample["values"].numpy())
        done = loaded.signatures["complete"](images=batch, rows=tf.constant(2), seed=tf.constant(1))
        np.save("{tmp_path}/complete.npy", done["values"].numpy())
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    np.testing.assert_allclose(np.load(tmp_path / "log_prob.npy"), model.log_prob(batch), rtol=1e-5)
    np.testing.assert_array_equal(np.load(tmp_path / "sample.npy"), model.generate(2, seed=9))
    np.testing.assert_array_equal(np.load(tmp_path / "complete.npy"), model.complete(batch, 2, seed=1))


def test_binarisation_is_fixed_and_follows_the_intensity():
    images = np.tile(np.arange(256, dtype=np.uint8), (100, 1)).reshape(100, 16, 16, 1)
    first, again = binarize(images, seed=0), binarize(images, seed=0)
    np.testing.assert_array_equal(first, again)
    assert set(np.unique(first)) == {0, 1}
    np.testing.assert_allclose(first.reshape(100, 256).mean(0)[[0, 128, 255]], [0, 0.5, 1], atol=0.12)


def test_presets_and_the_variant_flag():
    from zoo.training.recipe import preset_for_dataset, with_variant

    assert zoo.get("pixelrnn") is PixelRNN
    model = PixelRNN.from_preset("diagonal_bilstm_mnist")
    assert model.network.num_layers == 7 and model.levels == 2 and model.unit == "nats_per_image"
    assert PixelRNN.from_preset("pixelcnn_cifar10").unit == "bits_per_dim"
    assert with_variant(PixelRNN, "diagonal_bilstm_mnist", "row_lstm") == "row_lstm_mnist"
    assert with_variant(PixelRNN, "pixelcnn_cifar10", "diagonal_bilstm") == "diagonal_bilstm_cifar10"
    # --dataset alone moves the default preset to that dataset's, where there is one.
    assert preset_for_dataset(PixelRNN, "diagonal_bilstm_mnist", "cifar10") == "diagonal_bilstm_cifar10"
    assert preset_for_dataset(PixelRNN, "diagonal_bilstm_mnist", "fashion_mnist") == "diagonal_bilstm_mnist"
    assert preset_for_dataset(PixelRNN, "pixelcnn_cifar10", None) == "pixelcnn_cifar10"
    with pytest.raises(ConfigError, match="No 'gru' variant"):
        with_variant(PixelRNN, "pixelcnn_mnist", "gru")
    # The paper's CIFAR-10 sizes (h = 128, 1024 output features) and its
    # residual plus skip connections, one skip per layer.
    cifar = PixelRNN.preset_config("row_lstm_cifar10")["network"]
    assert (cifar["num_layers"], cifar["hidden"], cifar["output_hidden"]) == (12, 128, 1024)
    assert len([layer for layer in model.network.layers if layer.name.startswith("skip")]) == 8  # 7 + the sum
    with pytest.raises(ConfigError, match="grayscale or RGB"):
        PixelNetwork((8, 8, 4))


def test_evaluate_scores_an_export_by_its_exact_likelihood(tmp_path):
    from conftest import shared_path
    from zoo import evaluate, export
    from zoo.data import load_arrays

    mnist = shared_path("datasets", "mnist")
    model = small_model("pixelcnn", (28, 28, 1))
    export.save_generator(model, tmp_path / "export")
    result = evaluate.main(["--likelihood", str(tmp_path / "export"), "--dataset", "mnist",
                            "--data_dir", str(mnist), "--num_images", "20"])
    # 20 of the test images: a fixed random subset of the split binarised as
    # a whole (the same pixels as in a full score), not its first 20 (a
    # class-sorted split's first images are one class).
    images, labels = load_arrays("mnist", "test", mnist)
    chosen = np.sort(np.random.default_rng(0).choice(len(images), 20, replace=False))
    assert len(set(labels[chosen])) > 3
    expected = -model.log_prob(binarize(images, seed=1)[chosen]).mean()
    np.testing.assert_allclose(result["nats_per_image"], expected, rtol=1e-5)
    np.testing.assert_allclose(result["bits_per_dim"], expected / (784 * math.log(2)), rtol=1e-5)


@pytest.mark.slow
def test_each_variant_trains_from_the_recipe_and_exports(tmp_path):
    # As a user runs it: python recipes/pixelrnn.py --variant=...; with
    # --sample_every=-1 no grid is drawn (a grid re-runs the network once
    # per sub-pixel).
    from conftest import shared_path
    from test_recipe import run_recipe
    from zoo.export import load_metadata

    mnist = shared_path("datasets", "mnist")
    for variant in VARIANTS:
        out = tmp_path / variant
        code, stdout, stderr = run_recipe(
            f"--data_dir={mnist}", f"--variant={variant}", "--epochs=1", "--steps_per_epoch=2",
            "--batch_size=4", "--sample_every=-1", f"--logdir={out}/run", f"--export_dir={out}/export",
            "--verbose=0", script="pixelrnn",
        )
        assert code == 0, stderr[-3000:]
        assert f"pixelrnn ({variant}_mnist) on mnist train: 60000 images (28, 28, 1), binarised" in stdout
        assert load_metadata(out / "export")["step"] == 2
        assert not (out / "run" / "samples").exists()
    code, _, stderr = run_recipe(f"--data_dir={mnist}", "--sample_every=-2", script="pixelrnn")
    assert code == 2 and stderr.strip().splitlines()[-1].startswith("error: --sample_every must be >= 0")


def test_a_preset_built_with_its_pretrained_network_scores_as_its_saved_model():
    # PixelRNN.from_preset(..., pretrained=True) loads the shipped network:
    # its exact likelihood is the SavedModel's.
    from conftest import REPO

    model = PixelRNN.from_preset("pixelcnn_mnist", pretrained=True)
    images = values(3, (28, 28, 1), seed=4)
    served = tf.saved_model.load(str(REPO / "savedmodels" / "pixelcnn_mnist" / "saved_model"))
    expected = served.signatures["log_prob"](images=tf.constant(images))["log_prob"].numpy()
    np.testing.assert_allclose(model.log_prob(images), expected, rtol=1e-5)
