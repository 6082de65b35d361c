"""Seconds per sample grid of PixelRNN/PixelCNN: the whole pixel-by-pixel
loop inside one ``tf.function`` (``tf.while_loop``, what the model and its
SavedModel do) against the naive loop that re-runs the network from Python
for every sub-pixel.

    python bench/pixelrnn_sampling.py                       # the MNIST presets, 16 images
    python bench/pixelrnn_sampling.py --export savedmodels/pixelcnn_mnist

Both draw the same images (the same network, seeds and order). Writes
``bench/results/pixelrnn_sampling.json``; each row is the median of
``--repeats`` alternating runs (the first call of each, which traces, is
not timed).
"""

import argparse
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def naive_sample(model, num_images, seed):
    """The loop a user might write: one eager network call per sub-pixel."""
    import numpy as np
    import tensorflow as tf

    canvas = np.zeros((num_images,) + model.image_shape, np.int32)
    seed = tf.constant([seed, 0], tf.int64)
    for index in range(int(np.prod(model.image_shape))):
        r, c, k, draws = model.draw_subpixel(canvas, index, seed)
        canvas[:, r, c, k] = draws.numpy()
    return canvas


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--presets", default="pixelcnn_mnist,row_lstm_mnist,diagonal_bilstm_mnist")
    parser.add_argument("--num_images", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", default=os.path.join(HERE, "results", "pixelrnn_sampling.json"))
    args = parser.parse_args()

    import numpy as np

    import zoo

    rows = []
    for preset in args.presets.split(","):
        model = zoo.get("pixelrnn").from_preset(preset, seed=0)
        fast = lambda: model.generate(args.num_images, seed=1)  # noqa: E731
        slow = lambda: naive_sample(model, args.num_images, 1)  # noqa: E731
        assert np.array_equal(fast(), slow()), "the two loops must draw the same images"
        times = {"tf.while_loop": [], "python loop": []}
        for _ in range(args.repeats):
            for name, run in (("tf.while_loop", fast), ("python loop", slow)):
                start = time.perf_counter()
                run()
                times[name].append(time.perf_counter() - start)
        medians = {name: statistics.median(values) for name, values in times.items()}
        rows.append({"preset": preset, "num_images": args.num_images, "seconds": medians,
                     "runs": times, "speedup": medians["python loop"] / medians["tf.while_loop"]})
        print(f"{preset}: {medians['tf.while_loop']:.1f} s in one tf.function, "
              f"{medians['python loop']:.1f} s re-running the network from Python "
              f"({rows[-1]['speedup']:.1f}x), {args.num_images} images", flush=True)
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, "w") as f:
        json.dump({"command": "python " + " ".join(sys.argv), "cpu_count": os.cpu_count(), "rows": rows}, f, indent=2)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
