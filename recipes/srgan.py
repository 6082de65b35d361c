"""Train SRGAN (Ledig et al. 2017), x4 super-resolution. ``python recipes/srgan.py --help`` lists the flags.

Presets: srgan_photos (default: 96x96 crops of the training photographs,
SRResNet phase then the perceptual loss with offline FID Inception
features), srresnet_photos (the MSE phase alone), srgan_photos_vgg54 (the
paper's VGG54 content loss; downloads VGG19 once), srgan_cifar10,
srresnet_cifar10. ``--dataset`` also takes a folder of images of any size
(train/ and test/ subfolders where it has them). Sample grids show
low-res input | bicubic | SRGAN | high-res target for held-out crops.

    python recipes/srgan.py --preset=srresnet_photos --data_dir=../shared/datasets \\
        --logdir=runs/srgan_photos --export_dir=savedmodels/srresnet_photos
    python recipes/srgan.py --data_dir=../shared/datasets --logdir=runs/srgan_photos

(the second run resumes from the first's checkpoint and trains the GAN phase).
"""

from zoo.training import recipe

if __name__ == "__main__":
    recipe.main("srgan", default_preset="srgan_photos")
