"""A history of generated images for the discriminator (Shrivastava et al.
2017, "Learning from Simulated and Unsupervised Images through Adversarial
Training", section 2.3; CycleGAN, Zhu et al. 2017, section 4: 50 images).

The discriminator is updated on generated images drawn partly from the past,
which keeps it from forgetting regions of image space the generator has
left. ``ImageHistory.query(images, seed)`` does what CycleGAN's image pool
does, image by image: while the history is not full, store the image and
return it; once full, with probability 1/2 return a random stored image and
put the new one in its place, otherwise return the new image.

The history is a layer with two variables (the images and how many are
stored), so it is saved with the model: checkpoints carry it and a resumed
run continues with the same history. Under a ``tf.distribute`` strategy the
query runs on the *global* batch (all-gathered), in the same order and with
the same random draws on every replica, so every replica holds the same
history and returns its own slice: N replicas do what one device does.
"""

import keras
import tensorflow as tf

from zoo.core import replicas
from zoo.core.errors import ConfigError


@keras.saving.register_keras_serializable(package="zoo")
class ImageHistory(keras.layers.Layer):
    """The last images a generator produced, for its discriminator.

    Args:
        image_shape: ``(H, W, C)`` of the images.
        size: how many it holds (50 in CycleGAN; 0 disables it: ``query``
            returns its input).
    """

    def __init__(self, image_shape, size=50, **kwargs):
        super().__init__(**kwargs)
        if int(size) < 0:
            raise ConfigError(f"The image history size must be >= 0, got {size}.")
        self.image_shape = tuple(int(d) for d in image_shape)
        self.size = int(size)
        # The same value on every replica, which all compute it identically.
        self.images = self.add_weight(
            shape=(max(self.size, 1),) + self.image_shape,
            initializer="zeros",
            trainable=False,
            name="images",
            aggregation="only_first_replica",
        )
        self.count = self.add_weight(
            shape=(), initializer="zeros", dtype="int32", trainable=False,
            name="count", aggregation="only_first_replica",
        )
        self.built = True

    def query(self, images, seed):
        """The images the discriminator should see instead of ``images``
        ``[batch, H, W, C]``; updates the history. ``seed``: int ``[2]``,
        the same on every replica. No gradient flows through the result."""
        images = tf.stop_gradient(tf.cast(images, self.images.dtype))
        if self.size == 0:
            return images
        local = tf.shape(images)[0]
        everyone = replicas.global_batch(images)
        total = tf.shape(everyone)[0]
        coins = tf.random.stateless_uniform([total], seed=seed)
        picks = tf.random.stateless_uniform(
            [total], seed=tf.random.experimental.stateless_fold_in(seed, 1),
            minval=0, maxval=self.size, dtype=tf.int32,
        )

        def one_image(index, stored, count, returned):
            image, coin, pick = everyone[index], coins[index], picks[index]
            filling = count < self.size
            swap = tf.logical_and(tf.logical_not(filling), coin < 0.5)
            position = tf.where(filling, count, pick)
            returned = returned.write(index, tf.where(swap, stored[position], image))
            kept = tf.where(tf.logical_or(filling, swap), image, stored[position])
            stored = tf.tensor_scatter_nd_update(stored, [[position]], kept[None])
            return index + 1, stored, count + tf.cast(filling, tf.int32), returned

        _, stored, count, returned = tf.while_loop(
            lambda index, *_: index < total,
            one_image,
            (
                tf.constant(0),
                tf.convert_to_tensor(self.images),
                tf.convert_to_tensor(self.count),
                tf.TensorArray(self.images.dtype, size=total, element_shape=self.image_shape),
            ),
        )
        self.images.assign(stored)
        self.count.assign(count)
        returned = returned.stack()
        return replicas.local_slice(returned, local)

    def call(self, images):
        return images

    def get_config(self):
        return {**super().get_config(), "image_shape": self.image_shape, "size": self.size}
