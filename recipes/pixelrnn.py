"""Train PixelRNN or PixelCNN (van den Oord et al. 2016). ``python recipes/pixelrnn.py --help`` lists the flags.

    python recipes/pixelrnn.py --data_dir=../shared/datasets/mnist --variant=row_lstm

Variants (--variant): diagonal_bilstm (default), row_lstm, pixelcnn. Presets:
<variant>_mnist (binarised MNIST, Bernoulli outputs, scored in nats per image)
and <variant>_cifar10 (256-way softmax per sub-pixel, bits per dimension).
Sample grids are drawn pixel by pixel from the model.
"""

from zoo.training import recipe

if __name__ == "__main__":
    recipe.main("pixelrnn", default_preset="diagonal_bilstm_mnist")
