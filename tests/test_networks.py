"""zoo.core.networks.Network: the config is the constructor arguments."""

import zoo  # noqa: F401
import keras
import numpy as np
import pytest

from zoo.core.networks import Network


class Scaler(Network):
    def __init__(self, units=3, scale=2.0, **kwargs):
        inputs = keras.Input((units,), name="x")
        outputs = keras.layers.Rescaling(scale)(inputs)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.units = units
        self.scale = scale


class Forgetful(Network):
    def __init__(self, units=3, **kwargs):
        inputs = keras.Input((units,))
        super().__init__(inputs=inputs, outputs=keras.layers.Identity()(inputs), **kwargs)


def test_config_is_the_constructor_arguments_and_round_trips():
    network = Scaler(units=4, scale=0.5, name="half")
    config = network.get_config()
    assert config == {"name": "half", "trainable": True, "units": 4, "scale": 0.5}
    clone = Scaler.from_config(config)
    assert type(clone) is Scaler and clone.get_config() == config
    np.testing.assert_allclose(clone(np.ones((1, 4), "float32")), [[0.5] * 4])


def test_an_argument_not_stored_is_named():
    with pytest.raises(AttributeError, match="Forgetful must store its constructor argument 'units' as self.units"):
        Forgetful().get_config()


def test_every_zoo_network_is_a_network():
    for name in zoo.names():
        model = zoo.get(name).from_preset(next(iter(zoo.get(name).presets)))
        for role in ("generator", "discriminator", "encoder"):
            network = getattr(model, role, None)
            if network is not None:
                assert isinstance(network, Network), (name, role)
                assert type(network).from_config(network.get_config()).get_config() == network.get_config()


def test_square_image_shape_names_the_model_and_the_shape():
    from zoo.core.networks import square_image_shape

    assert square_image_shape([28, 28, 1], "DCGAN") == (28, 28, 1)
    with pytest.raises(ValueError, match=r"EBGAN expects square images .* got \(28, 32, 1\)"):
        square_image_shape((28, 32, 1), "EBGAN")
    with pytest.raises(ValueError, match=r"got \(28, 28\)"):
        square_image_shape((28, 28), "DCGAN")
