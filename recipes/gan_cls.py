"""Train GAN-CLS / GAN-INT-CLS (Reed et al. 2016): text to image. ``python recipes/gan_cls.py --help`` lists the flags.

Presets: gan_cls_emoji (default), gan_int_cls_emoji (``--variant=gan_int_cls``).
``--dataset`` takes ``emoji`` (Google, Twitter and OpenMoji colour emoji with
captions from their names and keywords), ``emoji:<style>[,<style>]``, or a
CSV of ``image,caption`` rows (or a folder holding ``captions.csv``).
Phases: the char-CNN-RNN text encoder first (joint embedding), then the GAN
with the encoder frozen; ``--phase_steps=E,G`` sets their lengths. The
export's SavedModel takes raw caption strings.
"""

from zoo.training import recipe

if __name__ == "__main__":
    recipe.main("gan_cls", default_preset="gan_cls_emoji")
