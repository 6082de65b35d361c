"""Train LSGAN (Mao et al. 2017). ``python recipes/lsgan.py --help`` lists the flags.

Presets: lsgan_mnist (28x28x1, a=0, b=c=1, default), lsgan_mnist_pearson
(28x28x1, a=-1, b=1, c=0).
"""

from zoo.training import recipe

if __name__ == "__main__":
    recipe.main("lsgan", default_preset="lsgan_mnist")
