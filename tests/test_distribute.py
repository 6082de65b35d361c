"""tf.distribute: two replicas compute what one device computes."""

import zoo  # noqa: F401
import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo.training import distribute
from zoo.models.dcgan import DCGAN, DCGANDiscriminator, DCGANGenerator

from gan_checks import assert_replicas_match, mirrored


def make_dcgan(d_steps=1):
    keras.utils.set_random_seed(3)
    model = DCGAN(
        DCGANGenerator((28, 28, 1), latent_dim=8, base_filters=8),
        DCGANDiscriminator((28, 28, 1), base_filters=8),
        d_steps=d_steps,
        seed=3,
    )
    model.compile(
        d_optimizer=keras.optimizers.SGD(0.1), g_optimizer=keras.optimizers.SGD(0.1)
    )
    return model


def real_batch(n=8):
    return np.random.default_rng(5).uniform(-1, 1, (n, 28, 28, 1)).astype("float32")


def test_two_replicas_match_one_device_after_one_step():
    assert_replicas_match(make_dcgan, real_batch())


def test_two_replicas_match_with_several_discriminator_steps():
    assert_replicas_match(lambda: make_dcgan(d_steps=2), real_batch(), calls_per_step=3)


def test_a_wrong_loss_scale_would_be_caught():
    # The check must be able to fail: dividing by the local instead of the
    # global batch doubles the two-replica gradient.
    class LocalMean(DCGAN):
        def reduce_loss(self, per_example_loss):
            return tf.reduce_mean(per_example_loss)

    def make():
        model = make_dcgan()
        wrong = LocalMean.from_config(model.get_config())
        wrong.set_weights(model.get_weights())
        wrong.compile(
            d_optimizer=keras.optimizers.SGD(0.1), g_optimizer=keras.optimizers.SGD(0.1)
        )
        return wrong

    with pytest.raises(AssertionError):
        assert_replicas_match(make, real_batch())


def test_replicas_draw_different_noise():
    strategy = mirrored(2)
    with strategy.scope():
        model = make_dcgan()

    @tf.function
    def draw():
        return strategy.run(lambda: model.sample_latent(4))

    noise = strategy.experimental_local_results(draw())
    assert not np.allclose(noise[0], noise[1])
    again = strategy.experimental_local_results(draw())
    assert not np.allclose(noise[0], again[0])  # and the stream moves on


def test_make_strategy_by_name():
    assert distribute.make_strategy("default").num_replicas_in_sync == 1
    mirrored = distribute.make_strategy("mirrored", devices=["/cpu:0", "/cpu:1"])
    assert mirrored.num_replicas_in_sync == 2
    assert isinstance(distribute.make_strategy("one_device"), tf.distribute.OneDeviceStrategy)
    with pytest.raises(ValueError, match="Unknown strategy 'horovod'.*multiworker"):
        distribute.make_strategy("horovod")


def test_chief_follows_tf_config(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert distribute.is_chief()
    cluster = {"worker": ["a:1", "b:2"]}
    monkeypatch.setenv("TF_CONFIG", f'{{"cluster": {cluster!r}, "task": {{"type": "worker", "index": 1}}}}'.replace("'", '"'))
    assert not distribute.is_chief()
    monkeypatch.setenv("TF_CONFIG", f'{{"cluster": {cluster!r}, "task": {{"type": "worker", "index": 0}}}}'.replace("'", '"'))
    assert distribute.is_chief()
