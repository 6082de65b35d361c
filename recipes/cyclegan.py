"""Train CycleGAN (Zhu et al. 2017). ``python recipes/cyclegan.py --help`` lists the flags.

Preset: cyclegan_emoji (the same emoji drawn by Google and by Twitter, trained
unpaired, default). ``--dataset`` also takes a folder in CycleGAN's layout
(trainA/ trainB/ testA/ testB/) or cycle_gan/<name> from TFDS. Sample grids
show A | G(A) | B for held-out examples.
"""

from zoo.training import recipe

if __name__ == "__main__":
    recipe.main("cyclegan", default_preset="cyclegan_emoji")
