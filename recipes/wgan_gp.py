"""Train WGAN-GP (Gulrajani et al. 2017). ``python recipes/wgan_gp.py --help`` lists the flags.

Presets: wgan_gp_mnist (28x28x1, default).
"""

from zoo.training import recipe

if __name__ == "__main__":
    recipe.main("wgan_gp", default_preset="wgan_gp_mnist")
