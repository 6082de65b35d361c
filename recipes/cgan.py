"""Train a conditional GAN (Mirza & Osindero 2014). ``python recipes/cgan.py --help`` lists the flags.

Trains on (image, label) pairs; sample grids show classes 0, 1, 2, ... in turn.
Presets: cgan_mnist (28x28x1, 10 classes, default), cgan_cifar10 (32x32x3).
"""

from zoo.training import recipe

if __name__ == "__main__":
    recipe.main("cgan", default_preset="cgan_mnist")
