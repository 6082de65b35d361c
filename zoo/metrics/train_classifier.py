"""Train a shipped domain classifier (MNIST or Fashion-MNIST) and write its model card.

    python -m zoo.metrics.train_classifier --dataset mnist --data_dir ../shared/datasets
    python -m zoo.metrics.train_classifier --dataset fashion_mnist --data_dir ../shared/datasets --epochs 8

Trains ``zoo.metrics.classifier.build_classifier`` on the whole training
split (Adam, cosine-decayed learning rate, sparse softmax cross-entropy),
measures accuracy on the whole test split, and
writes ``savedmodels/classifiers/<dataset>/classifier.keras`` (weights
only, no optimizer state) and ``README.md`` (the model card: command,
data, architecture, measured test accuracy).
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

import zoo  # noqa: F401  (before TensorFlow: turns oneDNN on)

import keras
import numpy as np

from zoo.metrics.classifier import build_classifier, shipped_classifier_path

MODEL_CARD = """# Domain classifier: {dataset}

A small CNN (`zoo.metrics.classifier.build_classifier`: 2 x [conv3x3-ReLU x 2, max-pool],
dropout, dense 128 `features`, dropout, dense 10 `logits`; {params:,} parameters) used for the
"classifier FID" (Fréchet distance on the 128-d `features` layer) and the "classifier score"
(Inception Score formula on its softmax) of `python -m zoo.evaluate`.

- Input: uint8-valued images [N, 28, 28, 1] (float or uint8; the model divides by 255).
- Output: logits [N, 10].
- Trained on the {num_train:,} {dataset} training images from `../shared/datasets/{dataset}`
  for {epochs} epochs (batch {batch_size}, Adam, cosine-decayed learning rate from {lr},
  seed {seed}), in {minutes:.1f} minutes on CPU (shared with other jobs).
- **Test accuracy: {accuracy:.2%}** on all {num_test:,} test images.

Made by:

```
{command}
```

Scores computed with this file are comparable only with scores computed with this same file.
"""


def train(dataset: str, data_dir: str | None, epochs: int, batch_size: int, lr: float,
          seed: int) -> tuple[keras.Model, float, dict]:
    """Train on the train split; return (inference model, test accuracy, facts for the card)."""
    from zoo.data import load_arrays

    keras.utils.set_random_seed(seed)
    x_train, y_train = load_arrays(dataset, split="train", data_dir=data_dir)
    x_test, y_test = load_arrays(dataset, split="test", data_dir=data_dir)
    steps = epochs * int(np.ceil(len(x_train) / batch_size))
    model = build_classifier()
    model.compile(
        optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(lr, steps)),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    started = time.time()
    model.fit(x_train.astype(np.float32), y_train, batch_size=batch_size, epochs=epochs,
              shuffle=True, verbose=2)
    minutes = (time.time() - started) / 60
    # Ship weights only: a fresh uncompiled copy carries no optimizer state.
    inference = build_classifier()
    inference.set_weights(model.get_weights())
    logits = inference.predict(x_test.astype(np.float32), batch_size=500, verbose=0)
    accuracy = float((logits.argmax(1) == y_test).mean())
    facts = {"num_train": len(x_train), "num_test": len(x_test), "minutes": minutes,
             "params": inference.count_params()}
    return inference, accuracy, facts


def main(argv=None) -> float:
    parser = argparse.ArgumentParser(prog="python -m zoo.metrics.train_classifier", description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", required=True, choices=["mnist", "fashion_mnist"])
    parser.add_argument("--data_dir", help="folder holding the dataset (e.g. ../shared/datasets)")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch_size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", help="default: savedmodels/classifiers/<dataset>/classifier.keras")
    args = parser.parse_args(argv)
    model, accuracy, facts = train(args.dataset, args.data_dir, args.epochs, args.batch_size, args.lr, args.seed)
    output = Path(args.output or shipped_classifier_path(args.dataset))
    output.parent.mkdir(parents=True, exist_ok=True)
    model.save(output)
    command = "python -m zoo.metrics.train_classifier " + shlex.join(argv if argv is not None else sys.argv[1:])
    (output.parent / "README.md").write_text(MODEL_CARD.format(
        dataset=args.dataset, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
        accuracy=accuracy, command=command, **facts))
    print(f"test accuracy {accuracy:.4f}; wrote {output}")
    return accuracy


if __name__ == "__main__":
    main()
