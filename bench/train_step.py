"""Training-step throughput: the zoo's ``fit`` against a hand-written loop.

    python bench/train_step.py                 # full table, writes bench/results/train_step.json
    python bench/train_step.py --quick         # DCGAN rows only
    python bench/train_step.py --repeats 7     # more repetitions per row
    python bench/train_step.py --only=pixelrnn # one architecture's rows, replaced in the JSON

The machine is shared and noisy (the same row varies by 10-15% from one
process to the next), so:

* the three DCGAN rows compared with each other (``zoo fit``, ``zoo
  train_step, tf.function``, ``hand-written``) are measured in one process
  per round, alternating windows (fit, step, hand, fit, step, hand, ...;
  ``--windows`` each), so that their ratio is measured under the same
  conditions; the row's value in a round is the median of its windows;
* every other row runs in its own process (oneDNN can only be turned on or
  off before TensorFlow is imported);
* everything is repeated ``--repeats`` times (default 5), the rows
  alternating within each round, and the table gives the median over rounds
  and the range.

Rows:

* ``zoo fit``: ``model.fit`` on the zoo's DCGAN (preset ``dcgan_mnist``), graph
  mode, oneDNN on (the zoo's default).
* ``zoo fit + XLA``: the same with ``compile(jit_compile=True)``.
* ``zoo train_step, tf.function``: the zoo's ``train_step`` called from a
  plain ``tf.function`` loop, without Keras's ``fit`` around it: what the
  zoo's step costs by itself.
* ``hand-written tf.function``: the same networks and Adam optimizers
  trained by a plain ``tf.function`` loop, what a user would write without
  the zoo.
* ``zoo fit, oneDNN off``: TensorFlow's default on CPUs without AVX-512.
* one ``zoo fit`` row per other registered architecture (its ``*_mnist``
  preset, else its ``*_small`` CPU-scale preset, else its first: the
  image-to-image models' 64x64 emoji, SRGAN's 96x96 photo crops), at its
  preset's batch size (64 for the MNIST ones);
  one per training phase for a phased preset (SRGAN: the SRResNet phase,
  the GAN phase; ProGAN: each resolution, timed at its start, mid-fade
  cost being the same as stable).

Each measurement times the steady state: ``--warmup`` steps (tracing and the
first executions), then ``--steps`` timed steps, all in one ``fit`` call (a
callback reads the clock at batch ends) or one loop. Starting and ending a
``fit`` call costs a fixed time (creating and deleting the dataset
iterator; up to ~1-3 s here, seen as whole windows at a lower rate), which a
training run pays once, not per step, so it is kept out of the window.

img/s counts images per train step: batch size x train steps per second. A
step of a model with several discriminator updates (WGAN, WGAN-GP, SNGAN: 5)
also reads that many real batches.

The machine's fp32 matmul throughput is measured in the same run
(``tf.matmul`` of square matrices, best of several sizes) and each row's
achieved FLOP/s is given as a fraction of it. A step's FLOPs are counted from
the networks (multiply-adds of Dense, Conv2D and Conv2DTranspose layers, x2):
with ``F_G``, ``F_D`` the forward FLOPs of generator and discriminator per
example and ``k`` discriminator steps, one GAN step costs
``k (F_G + 6 F_D) + 3 F_G + 2 F_D`` per example: each discriminator step runs
G forward and D forward+backward (about 2x forward) on real and fake; the
generator step runs G forward+backward and D forward plus the backward pass
to its input. Batch norm, activations and optimizer updates are not counted.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results", "train_step.json")


# --- FLOP counting ------------------------------------------------------------


def forward_flops(network):
    """FLOPs of one example's forward pass through ``network`` (see module doc)."""
    import keras

    total = 0
    for layer in network._flatten_layers(include_self=False):
        if not layer._inbound_nodes:
            continue  # the layer inside a wrapper: counted through the wrapper
        inner = getattr(layer, "layer", None)  # wrappers (spectral norm)
        target = inner if inner is not None else layer
        if isinstance(target, keras.layers.Dense):
            total += 2 * int(target.kernel.shape[0]) * int(target.kernel.shape[1]) * _positions(layer.output)
        elif isinstance(target, keras.layers.Conv2DTranspose):
            kh, kw, cout, cin = target.kernel.shape
            h, w = layer.input.shape[1:3]
            total += 2 * h * w * cin * kh * kw * cout
        elif isinstance(target, keras.layers.Conv2D):
            kh, kw, cin, cout = target.kernel.shape
            h, w = layer.output.shape[1:3]
            total += 2 * h * w * cin * kh * kw * cout
    return int(total)


def _positions(tensor):
    # A Dense layer applied to [batch, ..., features] runs once per position.
    count = 1
    for d in tensor.shape[1:-1]:
        count *= int(d)
    return count


def step_flops_per_example(model):
    f_g = forward_flops(model.generator)
    f_d = forward_flops(model.discriminator)
    return model.d_steps * (f_g + 6 * f_d) + 3 * f_g + 2 * f_d


# --- Workers (one measurement each, in a subprocess) ----------------------------


def worker_matmul():
    import tensorflow as tf

    best = 0.0
    for n in (1024, 2048, 3072):
        a = tf.random.normal((n, n))
        b = tf.random.normal((n, n))

        @tf.function
        def product(a, b):
            return tf.matmul(a, b)

        product(a, b).numpy()
        repeats = max(3, int(2e10 // (2 * n**3)))
        start = time.perf_counter()
        for _ in range(repeats):
            c = product(a, b)
        c.numpy()
        seconds = time.perf_counter() - start
        best = max(best, 2 * n**3 * repeats / seconds)
    return {"flops_per_second": best}


def _real_batches(batch_size, shape, group=1):
    """A repeated random batch; ``group > 1``: ``[batch, group, H, W, C]``,
    one batch per discriminator update (``fresh_real_batches``)."""
    import numpy as np
    import tensorflow as tf

    grouped = (batch_size,) + ((group,) if group > 1 else ())
    images = np.random.default_rng(0).uniform(-1, 1, grouped + tuple(shape))
    return tf.data.Dataset.from_tensors(images.astype("float32")).repeat()


def _zoo_model(architecture, preset, jit_compile=False):
    import zoo
    from zoo.core.optimizers import optimizer_from_config

    model_class = zoo.get(architecture)
    config = model_class.preset_config(preset)
    model = model_class.from_preset(preset, seed=0)
    optimizers = {
        key: optimizer_from_config(value, total_steps=10**6)
        for key, value in config["training"].items()
        if key.endswith("optimizer")  # a GAN's players', or a likelihood model's one
    }
    model.compile(jit_compile=jit_compile, **optimizers)
    return model, config


def _stream(model, config, batch_size):
    """Random real batches shaped as the model trains on them: images (and
    labels), (target, source) pairs, or grouped unpaired domains."""
    import numpy as np
    import tensorflow as tf

    if getattr(model, "data_kind", None) == "pixels":  # (values, values): int sub-pixels
        values = np.random.default_rng(0).integers(0, model.levels, (batch_size,) + model.image_shape)
        values = tf.constant(values.astype("int32"))
        return tf.data.Dataset.from_tensors((values, values)).repeat()
    if getattr(model, "data_kind", None) == "super_resolution":  # (high-res crop, its x4 downsampled copy)
        from zoo.data.super_resolution import downsample

        return _real_batches(batch_size, model.crop_shape).map(lambda x: (x, downsample(x, model.scale)))
    if getattr(model, "data_kind", None) == "captions":  # (images, {"tokens", "identity"})
        from zoo.core.text import tokenize

        captions = [f"a caption of image {i}, with a few words" for i in range(batch_size)]
        text = {"tokens": tokenize(captions, model.max_length), "identity": tf.range(batch_size)}
        return _real_batches(batch_size, config["image_shape"]).map(lambda x: (x, text))
    group = model.real_batches_per_step
    batches = _real_batches(batch_size, config["image_shape"], group)
    if model.condition.kind == "class":
        labels = tf.zeros((batch_size,) + ((group,) if group > 1 else ()), tf.int64)
        batches = batches.map(lambda x: (x, labels))
    elif model.condition.kind == "image":
        batches = batches.map(lambda x: (x, tf.reverse(x, axis=[-2])))
    return batches


def _flops(model):
    import zoo

    if hasattr(model, "discriminator") and type(model).training_updates is zoo.GAN.training_updates:
        return step_flops_per_example(model)
    return None


def _fit_window(model, stream, steps, warmup):
    """Seconds of ``steps`` steps of one ``fit`` call, after ``warmup`` steps."""
    import keras

    stamps = {}

    class Clock(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == warmup - 1:
                stamps["start"] = time.perf_counter()
            elif batch == warmup + steps - 1:
                stamps["end"] = time.perf_counter()

    model.fit(stream, steps_per_epoch=warmup + steps, epochs=1, verbose=0, callbacks=[Clock()])
    return stamps["end"] - stamps["start"]


def worker_fit(architecture, preset, batch_size, jit_compile, steps, warmup, phase=None):
    model, config = _zoo_model(architecture, preset, jit_compile)
    if phase is not None:  # a phased preset's phase (SRGAN: srresnet, srgan)
        from zoo.core.phases import from_config

        phases = {p.name: p for p in from_config(config["training"]["phases"], batch_size)}
        model.enter_phase(phases[phase], 0)
        if phases[phase].resolution:  # ProGAN: the phase's images
            size = phases[phase].resolution
            config = {**config, "image_shape": (size, size, config["image_shape"][-1])}
    seconds = _fit_window(model, _stream(model, config, batch_size), steps, warmup)
    return {"images_per_second": batch_size * steps / seconds, "flops_per_example": _flops(model)}


def _timed_loop(step, iterator, steps, warmup):
    for _ in range(warmup):
        outputs = step(next(iterator))
    float(outputs[0] if isinstance(outputs, (tuple, list)) else next(iter(outputs.values())))
    start = time.perf_counter()
    for _ in range(steps):
        outputs = step(next(iterator))
    float(outputs[0] if isinstance(outputs, (tuple, list)) else next(iter(outputs.values())))
    return time.perf_counter() - start


def worker_compare(batch_size, steps, warmup, windows):
    """``zoo fit``, the zoo's ``train_step`` in a plain ``tf.function`` loop,
    and the hand-written loop, in one process, alternating windows; each
    mode's rate is the median of its windows."""
    import statistics

    import tensorflow as tf

    fit_model, config = _zoo_model("dcgan", "dcgan_mnist")
    fit_stream = _stream(fit_model, config, batch_size)
    step_model, _ = _zoo_model("dcgan", "dcgan_mnist")
    step = tf.function(step_model.train_step)
    step_iterator = iter(_stream(step_model, config, batch_size))
    hand_step, hand_iterator, flops = _hand_written(batch_size)
    runs = {
        "zoo fit": lambda: _fit_window(fit_model, fit_stream, steps, warmup),
        "zoo train_step, tf.function": lambda: _timed_loop(step, step_iterator, steps, warmup),
        "hand-written tf.function": lambda: _timed_loop(hand_step, hand_iterator, steps, warmup),
    }
    rates = {mode: [] for mode in runs}
    for _ in range(windows):
        for mode, run in runs.items():
            rates[mode].append(batch_size * steps / run())
    return {
        mode: {"images_per_second": statistics.median(values), "windows": values, "flops_per_example": flops}
        for mode, values in rates.items()
    }


def _hand_written(batch_size):
    """DCGAN's step as a plain tf.function loop (no zoo in the step): the
    step function, a data iterator, the step's FLOPs per example."""
    import keras
    import tensorflow as tf

    import zoo  # noqa: F401  (oneDNN as the other rows)
    from zoo.models.dcgan import DCGAN

    model = DCGAN.from_preset("dcgan_mnist", seed=0)
    generator, discriminator = model.generator, model.discriminator
    d_optimizer = keras.optimizers.Adam(2e-4, beta_1=0.5)
    g_optimizer = keras.optimizers.Adam(2e-4, beta_1=0.5)
    bce = keras.losses.BinaryCrossentropy(from_logits=True)

    @tf.function
    def train_step(real):
        noise = tf.random.normal((batch_size, 100))
        fake = generator(noise, training=True)
        with tf.GradientTape() as tape:
            real_logits = discriminator(real, training=True)
            fake_logits = discriminator(fake, training=True)
            d_loss = bce(tf.ones_like(real_logits), real_logits) + bce(
                tf.zeros_like(fake_logits), fake_logits
            )
        grads = tape.gradient(d_loss, discriminator.trainable_variables)
        d_optimizer.apply_gradients(zip(grads, discriminator.trainable_variables))
        noise = tf.random.normal((batch_size, 100))
        with tf.GradientTape() as tape:
            fake_logits = discriminator(generator(noise, training=True), training=True)
            g_loss = bce(tf.ones_like(fake_logits), fake_logits)
        grads = tape.gradient(g_loss, generator.trainable_variables)
        g_optimizer.apply_gradients(zip(grads, generator.trainable_variables))
        return d_loss, g_loss

    return train_step, iter(_real_batches(batch_size, (28, 28, 1))), step_flops_per_example(model)


def run_worker(args):
    if args.worker == "matmul":
        result = worker_matmul()
    elif args.worker == "fit":
        result = worker_fit(args.architecture, args.preset, args.batch_size, args.jit, args.steps, args.warmup,
                            args.phase)
    else:
        result = worker_compare(args.batch_size, args.steps, args.warmup, args.windows)
    print("RESULT " + json.dumps(result))


# --- The table ----------------------------------------------------------------


def spawn(onednn=True, **kwargs):
    env = dict(os.environ, TF_ENABLE_ONEDNN_OPTS="1" if onednn else "0", TF_CPP_MIN_LOG_LEVEL="2")
    command = [sys.executable, os.path.abspath(__file__)]
    for key, value in kwargs.items():
        if value is True:
            command.append(f"--{key}")
        elif value not in (None, False):
            command.append(f"--{key}={value}")
    output = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1800)
    for line in output.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    print(f"worker {kwargs} failed:\n{output.stderr[-3000:]}", file=sys.stderr)
    return {"images_per_second": float("nan"), "flops_per_example": None, "error": output.stderr[-500:]}


def other_architectures(only=None):
    """``(architecture, preset)`` of every architecture but DCGAN (or of
    those in ``only``): its ``*_mnist`` presets (PixelRNN's three
    variants), else its first (the image-to-image models' emoji)."""
    import zoo

    rows = []
    for name in zoo.names():
        if name == "dcgan" or (only and name not in only):
            continue
        presets = list(zoo.get(name).presets)
        mnist = [p for p in presets if p.endswith("_mnist")]
        # A CPU-scale preset where there is one (StyleGAN's, BigGAN's), the one trained here.
        small = [p for p in presets if p.endswith("_small")]
        rows += [(name, preset) for preset in (mnist or small[:1] or presets[:1])]
    return rows


COMPARED = ("zoo fit", "zoo train_step, tf.function", "hand-written tf.function")


def plan(quick, steps_override, warmup, only=None):
    """The rows: ``(architecture, preset, batch, mode, spawn kwargs)``;
    with ``only``, the ``zoo fit`` rows of those architectures alone."""
    rows = []
    for batch in () if only else (64, 256):
        steps = steps_override or max(10, 2560 // batch)
        common = {"batch_size": batch, "steps": steps, "warmup": warmup}
        compare = {"worker": "compare", **common}
        for mode in COMPARED:
            rows.append(("dcgan", "dcgan_mnist", batch, mode, compare))
        rows.append(("dcgan", "dcgan_mnist", batch, "zoo fit + XLA", {"worker": "fit", "jit": True, **common}))
    if not only:
        rows.append(("dcgan", "dcgan_mnist", 64, "zoo fit, oneDNN off",
                     {"worker": "fit", "batch_size": 64, "steps": steps_override or 40, "warmup": warmup,
                      "onednn": False}))
    if not quick:
        import zoo

        for name, preset in other_architectures(only):
            batch = 64 if preset.endswith("_mnist") else zoo.get(name).preset_config(preset)["training"]["batch_size"]
            kwargs = {
                "worker": "fit", "architecture": name, "preset": preset, "batch_size": batch,
                "steps": steps_override or max(10, 2560 // batch) if preset.endswith("_mnist") else steps_override or 10,
                "warmup": warmup,
            }
            phases = zoo.get(name).preset_config(preset)["training"].get("phases")
            for phase in [p["name"] for p in phases] if phases else [None]:
                mode = f"zoo fit, {phase} phase" if phase else "zoo fit"
                rows.append((name, preset, batch, mode, {**kwargs, "phase": phase}))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--worker", choices=["matmul", "fit", "compare"])
    parser.add_argument("--architecture", default="dcgan")
    parser.add_argument("--preset", default="dcgan_mnist")
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--jit", action="store_true")
    parser.add_argument("--phase", help="the named training phase of a phased preset to time (SRGAN: srresnet, "
                        "srgan; ProGAN: 4x4 ... 32x32)")
    parser.add_argument("--steps", type=int, default=None, help="timed steps per measurement")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps before the window")
    parser.add_argument("--repeats", type=int, default=5, help="rounds: alternating measurements per row")
    parser.add_argument("--windows", type=int, default=3,
                        help="alternating windows per mode in the one-process comparison")
    parser.add_argument("--quick", action="store_true", help="DCGAN rows only")
    parser.add_argument("--only", help="comma-separated architectures: re-measure their rows alone and "
                        "replace them in --output (the other rows are kept)")
    parser.add_argument("--output", default=RESULTS)
    args = parser.parse_args()
    if args.worker:
        args.steps = args.steps or max(10, 2560 // args.batch_size)
        run_worker(args)
        return

    only = set(args.only.split(",")) if args.only else None
    rows = plan(args.quick, args.steps, args.warmup, only)
    matmul, rates, flops = [], {i: [] for i in range(len(rows))}, {}
    for repeat in range(args.repeats):
        matmul.append(spawn(worker="matmul")["flops_per_second"])
        compared = {}  # one process per batch size gives the three compared rows
        for i, (name, preset, batch, mode, kwargs) in enumerate(rows):
            kwargs = dict(kwargs)
            onednn = kwargs.pop("onednn", True)
            if kwargs["worker"] == "compare":
                if batch not in compared:
                    compared[batch] = spawn(onednn=onednn, windows=args.windows, **kwargs)
                result = compared[batch].get(mode, {"images_per_second": float("nan")})
            else:
                result = spawn(onednn=onednn, **kwargs)
            rates[i].append(result["images_per_second"])
            flops[i] = result.get("flops_per_example")
            print(f"round {repeat + 1}/{args.repeats}: {name} {mode} batch {batch}: "
                  f"{result['images_per_second']:.1f} img/s", flush=True)
    matmul_median = statistics.median(matmul)

    print(f"\nfp32 matmul throughput: {matmul_median / 1e9:.1f} GFLOP/s (median of {len(matmul)})\n")
    header = (f"| {'architecture':<12} | {'preset':<18} | {'batch':>5} | {'mode':<28} | "
              f"{'img/s (median)':>14} | {'range':>13} | {'GFLOP/s':>7} | {'of matmul':>9} |")
    print(header)
    print("|" + "|".join("-" * len(c) for c in header.split("|")[1:-1]) + "|")
    table = []
    for i, (name, preset, batch, mode, _) in enumerate(rows):
        median = statistics.median(rates[i])
        achieved = median * flops[i] if flops[i] else None
        table.append({
            "architecture": name, "preset": preset, "batch_size": batch, "mode": mode,
            "images_per_second": round(median, 1),
            "images_per_second_runs": [round(r, 1) for r in rates[i]],
            "flops_per_example": flops[i],
            "gflops_per_second": round(achieved / 1e9, 1) if achieved else None,
            "fraction_of_matmul": round(achieved / matmul_median, 3) if achieved else None,
        })
        spread = f"{min(rates[i]):.0f}-{max(rates[i]):.0f}"
        gflops = f"{achieved / 1e9:7.1f}" if achieved else f"{'-':>7}"
        fraction = f"{achieved / matmul_median:9.0%}" if achieved else f"{'-':>9}"
        print(f"| {name:<12} | {preset:<18} | {batch:>5} | {mode:<28} | {median:14.1f} | {spread:>13} | {gflops} | {fraction} |")
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    command = "python " + " ".join(sys.argv)
    if only and os.path.exists(args.output):
        # Replace these architectures' rows in the full table; each row
        # keeps the command and the matmul throughput it was measured with.
        with open(args.output) as f:
            results = json.load(f)
        for row in table:
            row.update(command=command, matmul_flops_per_second=matmul_median)
        results["rows"] = [r for r in results["rows"] if r["architecture"] not in only] + table
    else:
        results = {
            "matmul_flops_per_second": matmul_median,
            "cpu_count": os.cpu_count(),
            "repeats": args.repeats,
            "windows": args.windows,
            "warmup_steps": args.warmup,
            "command": command,
            "rows": table,
        }
    with open(args.output, "w") as f:
        json.dump(results, f, indent=2)
    print(f"\nwrote {args.output}")


if __name__ == "__main__":
    main()
