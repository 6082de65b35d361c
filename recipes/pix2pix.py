"""Train pix2pix (Isola et al. 2017). ``python recipes/pix2pix.py --help`` lists the flags.

Presets: pix2pix_emoji (OpenMoji line art -> colour, default), pix2pix_emoji_l1
(the L1-only baseline), pix2pix_emoji_inpainting, pix2pix_emoji_colorization,
pix2pix_cifar10_inpainting, pix2pix_cifar10_colorization. ``--dataset`` also
takes a folder in pix2pix's layout (train/ val/ test/ of side-by-side A|B
images). Sample grids show input | output | target for held-out examples.
"""

from zoo.training import recipe

if __name__ == "__main__":
    recipe.main("pix2pix", default_preset="pix2pix_emoji")
