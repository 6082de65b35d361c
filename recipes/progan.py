"""Train ProGAN (Karras et al. 2018), progressive growing. ``python recipes/progan.py --help`` lists the flags.

Presets: progan_cifar10 (default: 4x4 -> 32x32, the paper's CIFAR-10 setup),
progan_emoji (Google's emoji, 4x4 -> 64x64). The schedule is one phase per
resolution (a fade-in, then stable training); ``--phase_steps`` sets each
phase's length (the fade keeps its share). Sample grids show the current
resolution at the current fade (``alpha`` and ``resolution`` are logged as
scalars). A killed run resumes mid-fade.

    python recipes/progan.py --data_dir=../shared/datasets
"""

from zoo.training import recipe

if __name__ == "__main__":
    recipe.main("progan", default_preset="progan_cifar10")
