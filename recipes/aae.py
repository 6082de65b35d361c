"""Train an adversarial autoencoder (Makhzani et al. 2015). ``python recipes/aae.py --help`` lists the flags.

Presets: aae_mnist (the paper's MNIST model, 8-d codes, N(0, I) prior,
default), aae_mnist_mixture (2-d codes, mixture of 10 Gaussians prior).
The exported generator is the decoder: codes -> images.
"""

from zoo.training import recipe

if __name__ == "__main__":
    recipe.main("aae", default_preset="aae_mnist")
