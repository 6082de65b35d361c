"""Train EBGAN-PT (Zhao et al. 2016). ``python recipes/ebgan.py --help`` lists the flags.

Presets: ebgan_mnist (28x28x1, default).
"""

from zoo.training import recipe

if __name__ == "__main__":
    recipe.main("ebgan", default_preset="ebgan_mnist")
