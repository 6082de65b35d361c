"""Train LAPGAN (Denton et al. 2015). ``python recipes/lapgan.py --help`` lists the flags.

Presets: lapgan_cifar10 (default: 8x8 base GAN, residual GANs at 16x16 and
32x32), lapgan_cifar10_classcond (the class-conditional CC-LAPGAN). Sample
grids show every level of fixed samples, coarse to fine.

    python recipes/lapgan.py --data_dir=../shared/datasets
"""

from zoo.training import recipe

if __name__ == "__main__":
    recipe.main("lapgan", default_preset="lapgan_cifar10")
