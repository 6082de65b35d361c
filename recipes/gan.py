"""Train the original MLP GAN (Goodfellow et al. 2014). ``python recipes/gan.py --help``.

Presets: gan_mnist (non-saturating generator loss, default), gan_mnist_minimax
(the paper's saturating minimax loss).
"""

from zoo.training import recipe

if __name__ == "__main__":
    recipe.main("gan", default_preset="gan_mnist")
