"""Train StackGAN (Zhang et al. 2017): text to image in two stages. ``python recipes/stackgan.py --help`` lists the flags.

Preset: stackgan_emoji (stage I at 32x32, stage II at 64x64). ``--dataset``
takes what recipes/gan_cls.py does. Phases: the text encoder, stage I, then
stage II with stage I frozen; ``--phase_steps=E,I,II`` sets their lengths.
Sample grids show stage I's image (upsampled) beside stage II's.
"""

from zoo.training import recipe

if __name__ == "__main__":
    recipe.main("stackgan", default_preset="stackgan_emoji")
