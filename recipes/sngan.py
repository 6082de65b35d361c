"""Train SNGAN (Miyato et al. 2018). ``python recipes/sngan.py --help`` lists the flags.

Presets: sngan_mnist (28x28x1, default), sngan_cifar10 (32x32x3, the paper's
standard CNN; --dataset=cifar10 is its default), sndcgan_cifar10 (the same
networks with the settings of the authors' code for them: n_dis=1,
non-saturating loss; what savedmodels/sngan_cifar10 is trained from).
"""

from zoo.training import recipe

if __name__ == "__main__":
    recipe.main("sngan", default_preset="sngan_mnist")
