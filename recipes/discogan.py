"""Train DiscoGAN (Kim et al. 2017). ``python recipes/discogan.py --help`` lists the flags.

Preset: discogan_emoji (Google <-> Twitter emoji, unpaired, default), with the
released code's curriculum, feature matching and update interval. ``--dataset``
also takes a folder in CycleGAN's layout (trainA/ trainB/ testA/ testB/).
"""

from zoo.training import recipe

if __name__ == "__main__":
    recipe.main("discogan", default_preset="discogan_emoji")
