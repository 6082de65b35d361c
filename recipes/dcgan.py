"""Train DCGAN (Radford et al. 2015). ``python recipes/dcgan.py --help`` lists the flags.

Presets: dcgan_mnist (28x28x1, default), dcgan_cifar10 (32x32x3), dcgan_64
(64x64x3, the paper's network; e.g. --dataset=celeb_a).
"""

from zoo.training import recipe

if __name__ == "__main__":
    recipe.main("dcgan", default_preset="dcgan_mnist")
