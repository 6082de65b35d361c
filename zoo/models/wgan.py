"""WGAN: Arjovsky, Chintala & Bottou 2017, "Wasserstein GAN"
(arXiv:1701.07875).

The critic ``D`` is trained to maximise ``E[D(x)] - E[D(G(z))]``, an estimate
of the Wasserstein-1 distance between the data and the generator's
distribution, which holds only while ``D`` is K-Lipschitz. The paper keeps it
so by clipping every critic weight to ``[-c, c]`` after each critic update.
Its Algorithm 1, with the default values used in all its experiments:
``c = 0.01``, ``n_critic = 5`` critic updates per generator update, RMSProp
with learning rate ``5e-5`` for both players (the paper found momentum-based
optimizers such as Adam unstable here), batch 64. The networks are DCGAN's
(``zoo.models.dcgan``), as in the paper's main experiments; the critic outputs an
unbounded score instead of a logit.

As in Algorithm 1, each critic update draws its own real batch
(``fresh_real_batches``): one train step consumes ``n_critic`` real batches,
fed as ``[batch, n_critic, H, W, C]`` (``zoo.data.make_dataset(group=5)``;
the recipes do this), and one epoch is ``N // (batch * n_critic)`` train
steps.

The authors' released code (martinarjovsky/WassersteinGAN, ``main.py``)
departs from Algorithm 1 in one respect, which ``critic_schedule="authors"``
reproduces and the ``wgan_mnist`` preset uses: the critic is trained 100
times per generator update for the first 25 generator updates and at every
500th, which keeps it close to optimal while the generator moves fastest.
Here a train step is always ``n_critic`` critic updates (5, on 5 fresh real
batches); the generator updates at the end of a train step once the critic
updates since its last update reach the schedule's count (100 or 5), so a
100-update stretch is 20 train steps in which only the last one moves the
generator. ``model.step`` counts train steps (the data stream follows it);
``generator_updates`` counts generator updates. The authors' loop also cuts a
100-update stretch short at the end of an epoch; here it runs on into the
next epoch. (A conditional update rather than a varying number of critic
updates per step keeps one compiled train step, with no control flow around
optimizer updates, which cross-replica strategies cannot synchronise.)
"""

import keras
from keras import ops

from zoo.core.adversarial import GAN
from zoo.core.errors import ConfigError
from zoo.core.registry import register
from zoo.models.dcgan import DCGANDiscriminator, DCGANGenerator

PRESETS = {
    "wgan_mnist": {
        "description": "28x28 grayscale (MNIST, Fashion-MNIST): DCGAN networks, "
        "critic weights clipped to [-0.01, 0.01], 5 critic steps (100 for the first "
        "25 generator updates and every 500th, as the authors' code), RMSProp(5e-5).",
        "image_shape": (28, 28, 1),
        "model": {"critic_schedule": "authors"},
    },
    "wgan_mnist_algorithm1": {
        "description": "As wgan_mnist with the paper's Algorithm 1 as printed: 5 critic "
        "updates per generator update throughout.",
        "image_shape": (28, 28, 1),
    },
}

# The authors' code: 100 critic updates per generator update for the first
# 25 generator updates and every 500th.
WARMUP_GENERATOR_UPDATES = 25
HEAVY_EVERY = 500
HEAVY_CRITIC_UPDATES = 100


@register("wgan", presets=PRESETS)
@keras.saving.register_keras_serializable(package="zoo")
class WGAN(GAN):
    """Wasserstein GAN with weight clipping (Arjovsky et al. 2017, Algorithm 1).

    Args:
        generator: noise ``[batch, latent_dim]`` -> images ``[batch, H, W, C]``.
        discriminator: the critic, images -> scores ``[batch, 1]``.
        clip_value: ``c``; every trainable critic weight is clipped to
            ``[-c, c]`` after each critic update (0.01 in the paper).
        d_steps: ``n_critic``, critic updates per generator update (5).
        fresh_real_batches: a new real batch for each critic update, as in
            Algorithm 1 (True); False reuses one per train step.
        adversarial_loss: ``"wasserstein"`` (critic ``D(G(z)) - D(x)``,
            generator ``-D(G(z))``); other names from ``zoo.core.losses`` train a
            weight-clipped discriminator with that loss instead.
        critic_schedule: None (Algorithm 1: ``d_steps`` critic updates per
            generator update throughout) or ``"authors"`` (the released
            code's 100 critic updates for the first 25 generator updates and
            every 500th; see the module doc).
        **kwargs: the remaining ``zoo.core.adversarial.GAN`` arguments.
    """

    network_classes = {"generator": DCGANGenerator, "discriminator": DCGANDiscriminator}
    default_training = {
        **GAN.default_training,
        "batch_size": 64,
        "epochs": 50,
        "d_optimizer": {"class_name": "RMSprop", "config": {"learning_rate": 5e-5}},
        "g_optimizer": {"class_name": "RMSprop", "config": {"learning_rate": 5e-5}},
    }
    def __init__(
        self,
        generator,
        discriminator,
        clip_value=0.01,
        d_steps=5,
        fresh_real_batches=True,
        adversarial_loss="wasserstein",
        critic_schedule=None,
        **kwargs,
    ):
        if clip_value <= 0:
            raise ConfigError(f"clip_value must be > 0, got {clip_value}.")
        if critic_schedule not in (None, "authors"):
            raise ConfigError(f"critic_schedule must be None or 'authors', got {critic_schedule!r}.")
        if critic_schedule and HEAVY_CRITIC_UPDATES % d_steps:
            raise ConfigError(
                f"critic_schedule='authors' needs d_steps dividing {HEAVY_CRITIC_UPDATES}; got {d_steps}."
            )
        super().__init__(
            generator,
            discriminator,
            d_steps=d_steps,
            fresh_real_batches=fresh_real_batches,
            adversarial_loss=adversarial_loss,
            **kwargs,
        )
        self.clip_value = float(clip_value)
        self.critic_schedule = critic_schedule
        if critic_schedule:
            # Model variables, so checkpoints resume the schedule exactly.
            self.generator_updates = keras.Variable(
                0, dtype="int64", trainable=False, name="generator_updates",
                aggregation="only_first_replica",
            )
            self.critic_updates_pending = keras.Variable(
                0, dtype="int64", trainable=False, name="critic_updates_pending",
                aggregation="only_first_replica",
            )

    def critic_updates_needed(self):
        """Critic updates the next generator update waits for: 100 for the
        first 25 generator updates and every 500th, else ``d_steps``."""
        done = self.generator_updates
        heavy = ops.logical_or(done < WARMUP_GENERATOR_UPDATES, done % HEAVY_EVERY == 0)
        return ops.where(heavy, HEAVY_CRITIC_UPDATES, self.d_steps)

    def generator_update_condition(self):
        """With the authors' schedule: whether the critic updates since the
        last generator update, this step's included, reach the count the
        schedule asks for (None, always, without it)."""
        if not self.critic_schedule:
            return None
        pending = self.critic_updates_pending + self.d_steps
        return pending >= ops.cast(self.critic_updates_needed(), "int64")

    def after_generator_step(self, when=None):
        super().after_generator_step(when)
        if self.critic_schedule:
            pending = self.critic_updates_pending + self.d_steps
            self.critic_updates_pending.assign(ops.where(when, ops.zeros_like(pending), pending))
            self.generator_updates.assign_add(ops.cast(when, "int64"))

    def after_discriminator_step(self):
        """Clip every trainable critic weight to ``[-c, c]`` (Algorithm 1, line 8).

        Batch norm's moving statistics are not trained by gradients and are
        left alone, as in the paper's code, which clamps only parameters.
        """
        variables = self.discriminator.trainable_variables
        for variable, value in zip(variables, self.constrain_discriminator_values(variables)):
            variable.assign(value)

    def constrain_discriminator_values(self, values):
        """Every value clipped to ``[-c, c]``: also applied to each unrolled
        critic step (``unrolled_steps``)."""
        return [ops.clip(value, -self.clip_value, self.clip_value) for value in values]

    def export_metadata(self):
        metadata = super().export_metadata()
        if self.critic_schedule:
            metadata["generator_updates"] = int(self.generator_updates.numpy())
        return metadata

    def get_config(self):
        return {
            **super().get_config(),
            "clip_value": self.clip_value,
            "critic_schedule": self.critic_schedule,
        }
