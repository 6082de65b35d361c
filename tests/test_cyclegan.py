"""CycleGAN (Zhu et al. 2017): the ResNet generator, the losses against
hand-computed values, the histories, the schedule, resume, replicas and the
two served directions."""

import numpy as np
import pytest
import tensorflow as tf

import keras
import zoo
from zoo.core import optimizers
from zoo.core.errors import ConfigError
from zoo.models.cyclegan import CycleGAN, ResnetGenerator
from zoo.models.pix2pix import PatchDiscriminator

from gan_checks import assert_replicas_match, assert_resumes_exactly, assert_served_without_zoo, values

SHAPE = (16, 16, 3)


def small_cyclegan(seed=0, optimizer=None, **model_args):
    keras.utils.set_random_seed(seed)
    model = CycleGAN(
        ResnetGenerator(SHAPE, base_filters=4, residual_blocks=1),
        PatchDiscriminator(SHAPE, conditional=False, base_filters=4, stride2_layers=1),
        ResnetGenerator(SHAPE, base_filters=4, residual_blocks=1),
        PatchDiscriminator(SHAPE, conditional=False, base_filters=4, stride2_layers=1),
        seed=seed,
        history_size=4,
        **model_args,
    )
    optimizer = optimizer or (lambda: keras.optimizers.Adam(2e-4, beta_1=0.5))
    model.compile(g_optimizer=optimizer(), d_optimizer=optimizer())
    return model


def domains(n=4, seed=0):
    rng = np.random.default_rng(seed)
    return tuple(rng.uniform(-1, 1, (n,) + SHAPE).astype("float32") for _ in range(2))


def test_resnet_generator_keeps_the_size_and_reflects_at_the_border():
    generator = ResnetGenerator((64, 64, 3))
    assert generator.output_shape == (None, 64, 64, 3)
    assert generator.get_layer("res6").output.shape == (None, 16, 16, 256)
    assert generator.count_params() > 1_000_000
    with pytest.raises(ConfigError, match="multiple of 4"):
        ResnetGenerator((18, 18, 3))


def test_a_step_reports_cycle_and_identity_as_computed_by_hand():
    model = small_cyclegan()
    b, a = domains()
    g, f = model.generator, model.generator_ba
    cycle = np.mean(np.abs(f(g(a)).numpy() - a)) + np.mean(np.abs(g(f(b)).numpy() - b))
    identity = np.mean(np.abs(g(b).numpy() - b)) + np.mean(np.abs(f(a).numpy() - a))
    adversarial = np.mean((model.discriminator(g(a)).numpy() - 1) ** 2) + np.mean(
        (model.discriminator_a(f(b)).numpy() - 1) ** 2
    )
    logs = model.train_on_batch((b, a), return_dict=True)
    assert set(logs) == {"g_loss", "cycle", "identity", "d_loss"}
    np.testing.assert_allclose(logs["cycle"], cycle, rtol=1e-5)
    np.testing.assert_allclose(logs["identity"], identity, rtol=1e-5)
    np.testing.assert_allclose(logs["g_loss"], adversarial, rtol=1e-5)


def test_each_optimizer_moves_its_two_networks_only():
    for role, moving in (("g_optimizer", ("generator", "generator_ba")), ("d_optimizer", ("discriminator", "discriminator_a"))):
        keras.utils.set_random_seed(0)
        model = small_cyclegan()
        model.compile(**{r: keras.optimizers.SGD(0.1 if r == role else 0.0) for r in ("g_optimizer", "d_optimizer")})
        names = ("generator", "generator_ba", "discriminator", "discriminator_a")
        before = {n: values(getattr(model, n).trainable_weights) for n in names}
        model.train_on_batch(domains())
        for name in names:
            moved = [not np.array_equal(x, w.numpy()) for x, w in zip(before[name], getattr(model, name).trainable_weights)]
            assert any(moved) == (name in moving), (role, name)


def test_histories_fill_with_the_generated_images():
    model = small_cyclegan()
    model.train_on_batch(domains(2))
    assert int(model.history_a.count.numpy()) == int(model.history_b.count.numpy()) == 2
    model.train_on_batch(domains(4, 1))
    assert int(model.history_b.count.numpy()) == 4  # capped at the history's size


def test_learning_rate_constant_then_linear_to_zero():
    schedule = optimizers.LinearDecay(2e-4, total_steps=100)
    rates = [float(schedule(step)) for step in (0, 49, 50, 75, 100, 120)]
    np.testing.assert_allclose(rates, [2e-4, 2e-4, 2e-4, 1e-4, 0.0, 0.0], atol=1e-12)
    config = CycleGAN.preset_config("cyclegan_emoji")["training"]["g_optimizer"]
    assert config["config"]["learning_rate"]["config"]["total_steps"] is None  # the recipe's
    with pytest.raises(ConfigError, match="needs total_steps"):
        optimizers.LinearDecay(2e-4)(3)


def test_two_replicas_match_one_device():
    assert_replicas_match(
        lambda: small_cyclegan(seed=3, optimizer=lambda: keras.optimizers.SGD(0.1)), domains(4, 5), steps=2
    )


def test_a_killed_run_resumes_exactly_with_its_histories(tmp_path):
    from zoo.data import translation

    b, a = domains(12, 2)
    uint8 = lambda x: np.round((x + 1) * 127.5).astype("uint8")  # noqa: E731
    data = translation.TranslationData(
        translation.ImageSet(uint8(a), []), translation.ImageSet(uint8(b), []), False, "test domains"
    )
    straight, resumed = assert_resumes_exactly(
        small_cyclegan, lambda start: translation.make_unpaired_stream(data, 2, start_step=start), tmp_path
    )
    assert int(resumed.history_b.count.numpy()) == 4


def test_both_directions_are_served_without_zoo(tmp_path):
    model = small_cyclegan(ema_decay=0.9)
    model.train_on_batch(domains())
    b, a = domains(3, 7)
    export_dir, metadata = assert_served_without_zoo(model, tmp_path, {"images": a})
    assert metadata["directions"] == ["a_to_b", "b_to_a"]
    second = keras.models.load_model(f"{export_dir}/generator_ba.keras")
    np.testing.assert_allclose(second(b), model.translate(b, "b_to_a"), atol=1e-5)
    loaded = tf.saved_model.load(f"{export_dir}/saved_model")
    assert {"a_to_b", "b_to_a", "a_to_b_uint8", "b_to_a_uint8"} <= set(loaded.signatures)
    served = loaded.signatures["b_to_a"](images=tf.constant(b))["images"].numpy()
    np.testing.assert_allclose(served, model.translate(b, "b_to_a"), atol=1e-5)
    # The export is the moving average (ema_decay), not the raw generator.
    assert not np.allclose(model.translate(b, "b_to_a"), model.generator_ba(b))


def test_presets_build_with_the_papers_settings():
    assert zoo.get("cyclegan") is CycleGAN
    model = CycleGAN.from_preset("cyclegan_emoji")
    assert (model.cycle_weight, model.identity_weight, model.history_size) == (10.0, 0.5, 50)
    assert model.generator.residual_blocks == 6 and model.discriminator.receptive_field == 16
    assert model.generator.base_filters == model.generator_ba.base_filters == 32
    assert not model.discriminator.conditional
    with pytest.raises(ConfigError, match="'a_to_b' or 'b_to_a'"):
        model.translate(np.zeros((1, 64, 64, 3), "float32"), "sideways")
