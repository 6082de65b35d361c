"""Train StyleGAN2 (Karras et al. 2020; StyleGAN, Karras et al. 2019). ``python recipes/stylegan.py --help`` lists the flags.

Presets: stylegan2_cifar10 (the StyleGAN2-ADA code's CIFAR-10 configuration,
without ADA), stylegan2_cifar10_small (the same at a CPU's scale; default),
stylegan2_emoji (Google's emoji at 64x64). TensorBoard shows fixed samples
and a style-mixing grid (coarse styles from the top row, fine styles from
the left column). A killed run resumes with its lazy regularisers firing on
the same steps.

    python recipes/stylegan.py --data_dir=../shared/datasets
"""

from zoo.training import recipe

if __name__ == "__main__":
    recipe.main("stylegan", default_preset="stylegan2_cifar10_small")
