"""Train BigGAN (Brock et al. 2019), class-conditional. ``python recipes/biggan.py --help`` lists the flags.

Presets: biggan_cifar10_small (default: CIFAR-10 at a CPU's scale),
biggan_cifar10 (the released CIFAR-10 script's networks and optimisation
with the paper's shared embedding, hierarchical z and orthogonal
regularisation), biggan_emoji (Google's emoji at 64x64, conditioned on the
emoji's category). TensorBoard's grid has one row per class, from the
averaged generator with standing statistics.

    python recipes/biggan.py --data_dir=../shared/datasets
"""

from zoo.training import recipe

if __name__ == "__main__":
    recipe.main("biggan", default_preset="biggan_cifar10_small")
