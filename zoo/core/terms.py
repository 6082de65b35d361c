"""Named loss terms: the parts of a player's loss beyond the adversarial one.

A ``LossTerm`` is a name, a function of the step's tensors (a ``StepTensors``)
returning one value per example, a weight and how often it applies. An
architecture lists its terms (``GAN.generator_terms()``,
``GAN.discriminator_terms()``); the train step adds ``weight * value`` of
each to the player's loss and reports that under the term's name, so the
reported terms and the adversarial loss add up to what the player minimised.

A term with ``every = k > 1`` is *lazy* (Karras et al. 2020, "Analyzing and
Improving the Image Quality of StyleGAN", section 3.1: R1 every 16
minibatches, path length every 4): it is computed only on the train steps
whose global step is a multiple of ``k`` (0, k, 2k, ...: the step counter
is checkpointed, so a resumed run fires on the same steps), scaled by ``k``
so that its average contribution is unchanged, and skipped (not computed)
on the others. Its running mean in the logs is over the steps it fired on.
A lazy term runs inside ``tf.cond``, so it must not contain cross-replica
operations (synchronised batch norm): the penalised networks of the papers
that use lazy regularisation have none.

The factories below build the terms the zoo's architectures use, each from
its paper.
"""

import dataclasses
from typing import Any, Callable

from zoo.core import losses
from zoo.core.errors import ConfigError


@dataclasses.dataclass
class StepTensors:
    """What a term may read, for one player's update.

    ``real``: the real (target) images; ``fake``: the generated images
    (for discriminator terms both as the discriminator sees them, augmented
    when augmenting; for generator terms as they are, so that L1 or content
    terms compare the generator's own output with the target);
    ``condition``: the step's condition or None; ``noise``: the generator's
    noise or None; ``real_outputs`` / ``fake_outputs``: the discriminator's
    outputs on them (None where the update did not compute them);
    ``extras``: anything else a model exposes to its terms (e.g. the
    conditioning-augmentation mean and log-variance); ``model``: the model.
    """

    model: Any
    real: Any = None
    fake: Any = None
    condition: Any = None
    noise: Any = None
    real_outputs: Any = None
    fake_outputs: Any = None
    extras: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class LossTerm:
    """``weight * fn(step_tensors)`` added to a player's loss, reported as ``name``.

    Args:
        name: the name it is reported under (must be in the model's
            ``metric_names``).
        fn: ``StepTensors -> [batch]`` values, one per example (unweighted).
        weight: its weight in the loss.
        every: apply on every ``every``-th train step only, scaled by
            ``every`` (lazy regularisation); 1: every step.
    """

    name: str
    fn: Callable
    weight: float = 1.0
    every: int = 1

    def __post_init__(self):
        if int(self.every) < 1:
            raise ConfigError(f"Loss term {self.name!r}: every must be >= 1, got {self.every}.")
        self.every = int(self.every)
        self.weight = float(self.weight)


# --- Generator terms ----------------------------------------------------------


def reconstruction(weight, norm="l1", name=None):
    """Distance of the generated images to the real (target) ones, per
    example: ``"l1"``, pix2pix's ``lambda * ||y - G(x, z)||_1`` (Isola et
    al. 2017, eq. 3-4, lambda = 100), or ``"l2"``, the pixel-wise MSE that
    pre-trains SRResNet (Ledig et al. 2017, eq. 4)."""
    functions = {"l1": losses.mean_absolute_error, "l2": losses.mean_squared_error}
    if norm not in functions:
        raise ConfigError(f"Unknown reconstruction norm {norm!r}; use 'l1' or 'l2'.")
    distance = functions[norm]
    return LossTerm(name or norm, lambda t: distance(t.fake, t.real), weight)


def content(network, weight, name="content", scale=1.0):
    """Content (perceptual) loss through a frozen ``network``: the mean
    squared difference of its features of the generated and the real
    images, times ``scale`` (Ledig et al. 2017, eq. 5: VGG54 features,
    rescaled by 1/12.75). ``network`` must be frozen (``trainable=False``)."""
    if network.trainable:
        raise ConfigError(
            f"The content network {network.name!r} must be frozen "
            "(zoo.core.networks.freeze) so that no optimizer trains it."
        )

    def fn(t):
        fake_features = network(t.fake, training=False)
        real_features = network(t.real, training=False)
        return losses.mean_squared_error(fake_features * scale, real_features * scale)

    return LossTerm(name, fn, weight)


def kl_divergence(weight, name="kl"):
    """``KL(N(mu, sigma^2) || N(0, I))`` of the conditioning augmentation
    the generator sampled from (Zhang et al. 2017, StackGAN, eq. 3); reads
    ``extras["mean"]`` and ``extras["log_variance"]``."""

    def fn(t):
        if "mean" not in t.extras or "log_variance" not in t.extras:
            raise ConfigError(
                "The KL term needs the generator's conditioning-augmentation "
                "'mean' and 'log_variance' in the step's extras."
            )
        return losses.kl_to_standard_normal(t.extras["mean"], t.extras["log_variance"])

    return LossTerm(name, fn, weight)


# --- Discriminator terms ------------------------------------------------------


def r1(gamma, every=1, name="r1"):
    """R1 on the real images (Mescheder et al. 2018, eq. 9):
    ``gamma / 2 * ||grad_x D(x)||^2``; ``every=16`` is StyleGAN2's lazy R1."""

    def fn(t):
        def critic(images):
            return t.model.discriminate(images, t.condition, training=True)

        return losses.r1_penalty(critic, t.real, gamma=1.0)

    # gamma / 2 is in r1_penalty with gamma = 1 scaled by the weight.
    return LossTerm(name, fn, weight=gamma, every=every)
