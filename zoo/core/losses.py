"""Adversarial losses and penalties, per example.

Every loss takes discriminator outputs as raw logits (or critic values) and
returns one value per example, shape ``[batch]``: outputs with more than one
value per example (a PatchGAN map ``[batch, h, w, 1]``, say) are averaged over
every axis but the first. Reduction over the batch is left to the caller,
because under a ``tf.distribute`` strategy the mean must be taken over the
*global* batch (see ``zoo.core.model.ZooModel.reduce_loss``).

Notation: ``D(x)`` is the discriminator's logit for input ``x``,
``sigmoid(D(x))`` its probability that ``x`` is real, and
``softplus(t) = log(1 + exp(t))``, so ``-log sigmoid(t) = softplus(-t)`` and
``-log(1 - sigmoid(t)) = softplus(t)``. Writing the losses with softplus keeps
them finite for any logit.
"""

import tensorflow as tf
from keras import ops

from zoo.core.errors import ConfigError


def per_example(values):
    """Mean over every axis but the first: ``[batch, ...] -> [batch]``."""
    values = ops.convert_to_tensor(values)
    if len(values.shape) == 1:
        return values
    return ops.mean(ops.reshape(values, (ops.shape(values)[0], -1)), axis=1)


# --- Goodfellow et al. 2014, "Generative Adversarial Nets" -----------------


def minimax_discriminator_loss(real_logits, fake_logits):
    """Discriminator loss of the original GAN (Goodfellow et al. 2014, eq. 1).

    ``-log sigmoid(D(x)) - log(1 - sigmoid(D(G(z))))``: binary cross-entropy
    with real labelled 1 and fake labelled 0.

    Args:
        real_logits: ``[batch, ...]`` logits on real examples.
        fake_logits: ``[batch, ...]`` logits on generated examples.
    Returns:
        ``[batch]`` losses.
    """
    return per_example(ops.softplus(-real_logits)) + per_example(
        ops.softplus(fake_logits)
    )


def minimax_generator_loss(fake_logits):
    """Saturating generator loss of the minimax game (Goodfellow et al. 2014).

    ``log(1 - sigmoid(D(G(z)))) = -softplus(D(G(z)))``: the generator
    minimises the discriminator's log-probability of being right. Its gradient
    vanishes when the discriminator confidently rejects the samples, which is
    why the paper recommends the non-saturating loss in practice.

    Args:
        fake_logits: ``[batch, ...]`` logits on generated examples.
    Returns:
        ``[batch]`` losses (always negative).
    """
    return -per_example(ops.softplus(fake_logits))


def non_saturating_generator_loss(fake_logits):
    """Non-saturating generator loss (Goodfellow et al. 2014, section 3).

    ``-log sigmoid(D(G(z))) = softplus(-D(G(z)))``: same fixed point as the
    minimax loss, with strong gradients early in training.

    Args:
        fake_logits: ``[batch, ...]`` logits on generated examples.
    Returns:
        ``[batch]`` losses.
    """
    return per_example(ops.softplus(-fake_logits))


# --- Mao et al. 2017, "Least Squares Generative Adversarial Networks" ------


def least_squares_discriminator_loss(real_logits, fake_logits, a=0.0, b=1.0):
    """LSGAN discriminator loss (Mao et al. 2017, eq. 2).

    ``0.5 (D(x) - b)^2 + 0.5 (D(G(z)) - a)^2`` with ``a`` the target for fake
    and ``b`` the target for real data. The paper's choices are ``a=-1, b=1,
    c=0`` (its eq. 8, Pearson chi-squared) or ``a=0, b=c=1`` (eq. 9).

    Returns:
        ``[batch]`` losses.
    """
    return 0.5 * per_example(ops.square(real_logits - b)) + 0.5 * per_example(
        ops.square(fake_logits - a)
    )


def least_squares_generator_loss(fake_logits, c=1.0):
    """LSGAN generator loss (Mao et al. 2017, eq. 2): ``0.5 (D(G(z)) - c)^2``.

    Returns:
        ``[batch]`` losses.
    """
    return 0.5 * per_example(ops.square(fake_logits - c))


# --- Arjovsky et al. 2017, "Wasserstein GAN" -------------------------------


def wasserstein_discriminator_loss(real_logits, fake_logits):
    """WGAN critic loss (Arjovsky et al. 2017, Algorithm 1).

    ``D(G(z)) - D(x)``: minimising it maximises the critic's estimate of the
    Wasserstein-1 distance (the critic must be kept 1-Lipschitz, by weight
    clipping or a gradient penalty).

    Returns:
        ``[batch]`` losses.
    """
    return per_example(fake_logits) - per_example(real_logits)


def wasserstein_generator_loss(fake_logits):
    """WGAN generator loss (Arjovsky et al. 2017, Algorithm 1): ``-D(G(z))``.

    Returns:
        ``[batch]`` losses.
    """
    return -per_example(fake_logits)


# --- Lim & Ye 2017 "Geometric GAN"; Miyato et al. 2018 "Spectral Norm." ----


def hinge_discriminator_loss(real_logits, fake_logits):
    """Hinge discriminator loss (Lim & Ye 2017; Miyato et al. 2018, eq. 16).

    ``max(0, 1 - D(x)) + max(0, 1 + D(G(z)))``.

    Returns:
        ``[batch]`` losses.
    """
    return per_example(ops.relu(1.0 - real_logits)) + per_example(
        ops.relu(1.0 + fake_logits)
    )


def hinge_generator_loss(fake_logits):
    """Hinge generator loss (Miyato et al. 2018, eq. 17): ``-D(G(z))``.

    Returns:
        ``[batch]`` losses.
    """
    return -per_example(fake_logits)


# --- Penalties on the discriminator's input gradient -----------------------


def _input_gradients(discriminator, inputs):
    """Gradient of ``sum(D(inputs))`` w.r.t. ``inputs``, same shape as inputs.

    Summing is exact here: example ``i``'s output depends only on input ``i``
    (no batch statistics in a critic that is penalised this way), so the
    gradient of the sum holds each example's own gradient.
    """
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        outputs = discriminator(inputs)
        total = ops.sum(ops.cast(outputs, "float32"))
    return tape.gradient(total, inputs)


def _squared_norm_per_example(gradients):
    gradients = ops.cast(gradients, "float32")
    flat = ops.reshape(gradients, (ops.shape(gradients)[0], -1))
    return ops.sum(ops.square(flat), axis=1)


def gradient_penalty(discriminator, real, fake, alpha, epsilon=1e-12, target=1.0):
    """WGAN-GP gradient penalty (Gulrajani et al. 2017, Algorithm 1).

    ``(||grad_x D(x_hat)||_2 - 1)^2`` at ``x_hat = alpha x + (1 - alpha) G(z)``,
    one uniform ``alpha`` per example. ``epsilon`` sits inside the square root
    so that the gradient of the norm stays finite where the input gradient is
    zero. With ``target = gamma`` the penalty is ``((||grad|| - gamma) /
    gamma)^2`` (Karras et al. 2018, section 6.5: gamma = 750 on CIFAR-10,
    "to favour fast transitions").

    Args:
        discriminator: callable ``[batch, ...] -> [batch, ...]`` (logits).
        real: ``[batch, H, W, C]`` real examples.
        fake: ``[batch, H, W, C]`` generated examples.
        alpha: ``[batch]`` interpolation weights in ``[0, 1]``.
        epsilon: added to the squared norm before the square root.
    Returns:
        ``[batch]`` penalties (multiply by lambda, 10 in the paper).
    """
    alpha = ops.reshape(
        ops.cast(alpha, real.dtype), (-1,) + (1,) * (len(real.shape) - 1)
    )
    interpolated = alpha * real + (1.0 - alpha) * ops.cast(fake, real.dtype)
    gradients = _input_gradients(discriminator, interpolated)
    norm = ops.sqrt(_squared_norm_per_example(gradients) + epsilon)
    return ops.square((norm - target) / target)


def r1_penalty(discriminator, real, gamma=10.0):
    """R1 regulariser (Mescheder et al. 2018, "Which Training Methods for GANs
    do actually Converge?", eq. 9): ``gamma / 2 * ||grad_x D(x)||^2`` on real
    data.

    Args:
        discriminator: callable ``[batch, ...] -> [batch, ...]`` (logits).
        real: ``[batch, H, W, C]`` real examples.
        gamma: the penalty weight.
    Returns:
        ``[batch]`` penalties.
    """
    gradients = _input_gradients(discriminator, real)
    return 0.5 * gamma * _squared_norm_per_example(gradients)


def matching_aware_discriminator_loss(discriminator_loss, real_outputs, wrong_outputs, fake_outputs):
    """GAN-CLS's matching-aware discriminator loss (Reed et al. 2016,
    "Generative Adversarial Text to Image Synthesis", Algorithm 1):
    real images with their own text are real; real images with mismatched
    text and generated images with their text are both fake, each at half
    weight, as the authors' code does:
    ``L_real(real) + (L_fake(wrong) + L_fake(fake)) / 2``.

    ``discriminator_loss(real, fake) = L_real(real) + L_fake(fake)`` is any
    separable loss of ``LOSSES`` (each of them is); written as the mean of
    two of its calls, ``(d(real, wrong) + d(real, fake)) / 2``. Returns
    ``[batch]`` losses.
    """
    return 0.5 * (
        discriminator_loss(real_outputs, wrong_outputs) + discriminator_loss(real_outputs, fake_outputs)
    )


LOSSES = {
    # name: (discriminator loss, generator loss)
    "minimax": (minimax_discriminator_loss, minimax_generator_loss),
    "non_saturating": (minimax_discriminator_loss, non_saturating_generator_loss),
    "least_squares": (least_squares_discriminator_loss, least_squares_generator_loss),
    "wasserstein": (wasserstein_discriminator_loss, wasserstein_generator_loss),
    "hinge": (hinge_discriminator_loss, hinge_generator_loss),
}


def get(name):
    """The ``(discriminator_loss, generator_loss)`` pair called ``name``."""
    if name not in LOSSES:
        raise ConfigError(
            f"Unknown adversarial loss {name!r}; known losses: {sorted(LOSSES)}."
        )
    return LOSSES[name]


__all__ = [
    "per_example",
    "minimax_discriminator_loss",
    "minimax_generator_loss",
    "non_saturating_generator_loss",
    "least_squares_discriminator_loss",
    "least_squares_generator_loss",
    "wasserstein_discriminator_loss",
    "wasserstein_generator_loss",
    "hinge_discriminator_loss",
    "hinge_generator_loss",
    "matching_aware_discriminator_loss",
    "gradient_penalty",
    "r1_penalty",
    "get",
]


# --- Zhao, Mathieu & LeCun 2016, "Energy-based Generative Adversarial
# Network" (arXiv:1609.03126) ----------------------------------------------


def reconstruction_energy(images, reconstructions, kind="l2", epsilon=1e-12):
    """EBGAN's energy: how badly the auto-encoder reconstructs each example.

    ``kind="l2"`` is the paper's ``D(x) = ||Dec(Enc(x)) - x||`` (section
    2.3), the Euclidean norm over all pixels; its margins (``m = 10`` on
    MNIST) are on this scale. ``kind="mse"`` is the mean squared error per
    pixel, the scale many re-implementations use (with ``m`` about 1).
    ``epsilon`` sits inside the square root so that the norm's gradient stays
    finite at a perfect reconstruction.

    Args:
        images: ``[batch, H, W, C]`` inputs ``x``.
        reconstructions: ``[batch, H, W, C]`` auto-encoder outputs.
        kind: ``"l2"`` or ``"mse"``.
    Returns:
        ``[batch]`` energies (non-negative).
    """
    if kind not in ("l2", "mse"):
        raise ConfigError(f"Unknown energy kind {kind!r}; use 'l2' or 'mse'.")
    errors = ops.cast(reconstructions, "float32") - ops.cast(images, "float32")
    squared = ops.reshape(ops.square(errors), (ops.shape(errors)[0], -1))
    if kind == "mse":
        return ops.mean(squared, axis=1)
    return ops.sqrt(ops.sum(squared, axis=1) + epsilon)


def ebgan_discriminator_loss(real_energy, fake_energy, margin):
    """EBGAN discriminator loss (Zhao et al. 2016, eq. 1).

    ``D(x) + max(0, m - D(G(z)))``: pull the energy of real data down and
    push the energy of generated data up until it exceeds the margin ``m``.

    Args:
        real_energy: ``[batch]`` energies ``D(x)``.
        fake_energy: ``[batch]`` energies ``D(G(z))``.
        margin: ``m``.
    Returns:
        ``[batch]`` losses.
    """
    return per_example(real_energy) + ops.relu(margin - per_example(fake_energy))


def ebgan_generator_loss(fake_energy):
    """EBGAN generator loss (Zhao et al. 2016, eq. 2): ``D(G(z))``.

    Returns:
        ``[batch]`` losses.
    """
    return per_example(fake_energy)


def pulling_away_term(embeddings, batch_embeddings=None, epsilon=1e-12):
    """EBGAN's pulling-away term, per example (Zhao et al. 2016, section 2.4).

    ``PT = 1 / (N (N - 1)) sum_{i != j} cos(S_i, S_j)^2`` over the ``N``
    encoder embeddings ``S`` of a batch of generated images: the mean squared
    cosine similarity between distinct examples, which the generator
    minimises to spread its samples out. PT couples the examples of a batch,
    so it is returned split into per-example shares
    ``pt_i = 1 / (N - 1) sum_{j != i} cos(S_i, S_j)^2``, whose mean is PT.
    Passing the whole batch as ``batch_embeddings`` and a slice of it as
    ``embeddings`` gives that slice's shares of the whole batch's PT (how
    EBGAN computes it on each replica, see ``zoo.models.ebgan``).

    Args:
        embeddings: ``[n, d]`` embeddings whose shares to return.
        batch_embeddings: ``[N, d]`` the batch they belong to (contains
            ``embeddings``); defaults to ``embeddings``.
        epsilon: added to squared norms before dividing by them.
    Returns:
        ``[n]`` shares ``pt_i``; zeros when ``N == 1`` (no pairs).
    """

    def normalize(x):
        x = ops.cast(x, "float32")
        return x / ops.sqrt(ops.sum(ops.square(x), axis=1, keepdims=True) + epsilon)

    rows = normalize(embeddings)
    batch = rows if batch_embeddings is None else normalize(batch_embeddings)
    squared_cosines = ops.sum(ops.square(ops.matmul(rows, ops.transpose(batch))), axis=1)
    # Remove j == i, which is in the sum because `rows` is part of `batch`.
    self_similarity = ops.square(ops.sum(rows * rows, axis=1))
    pairs = ops.maximum(ops.cast(ops.shape(batch)[0], "float32") - 1.0, 1.0)
    return (squared_cosines - self_similarity) / pairs


__all__ += [
    "reconstruction_energy",
    "ebgan_discriminator_loss",
    "ebgan_generator_loss",
    "pulling_away_term",
]


# --- Reconstruction and distribution terms, per example -------------------


def mean_absolute_error(predictions, targets):
    """``mean |predictions - targets|`` over every axis but the first,
    ``[batch]``: pix2pix's L1 term (Isola et al. 2017, "Image-to-Image
    Translation with Conditional Adversarial Networks", eq. 3) and
    CycleGAN's cycle-consistency and identity terms (Zhu et al. 2017)."""
    errors = ops.cast(predictions, "float32") - ops.cast(targets, "float32")
    return per_example(ops.abs(errors))


def mean_squared_error(predictions, targets):
    """``mean (predictions - targets)^2`` over every axis but the first,
    ``[batch]``: the pixel-wise MSE and the feature-space content loss of
    SRGAN (Ledig et al. 2017, eqs. 4-5)."""
    errors = ops.cast(predictions, "float32") - ops.cast(targets, "float32")
    return per_example(ops.square(errors))


def kl_to_standard_normal(mean, log_variance):
    """``KL(N(mean, exp(log_variance)) || N(0, I))`` summed over the last
    axis, ``[batch]`` (Kingma & Welling 2014, appendix B):
    ``-1/2 sum(1 + log s^2 - m^2 - s^2)``. StackGAN's conditioning
    augmentation regulariser (Zhang et al. 2017, eq. 3)."""
    mean = ops.cast(mean, "float32")
    log_variance = ops.cast(log_variance, "float32")
    return -0.5 * ops.sum(1.0 + log_variance - ops.square(mean) - ops.exp(log_variance), axis=-1)


__all__ += ["mean_absolute_error", "mean_squared_error", "kl_to_standard_normal"]
