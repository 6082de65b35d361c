"""Train WGAN (Arjovsky et al. 2017). ``python recipes/wgan.py --help`` lists the flags.

Presets: wgan_mnist (28x28x1, default).
"""

from zoo.training import recipe

if __name__ == "__main__":
    recipe.main("wgan", default_preset="wgan_mnist")
