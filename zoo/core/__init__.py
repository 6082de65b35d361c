"""The core every architecture builds on.

* ``model.ZooModel``: the root model (presets, seed stream, global step,
  optimizers by role, reporting, phases, export hooks).
* ``adversarial.GAN``: the adversarial template (players, loss terms, lazy
  regularisers, EMA, DiffAugment, unrolled updates).
* ``conditions``: none, class, image or text conditions.
* ``terms``: named, weighted, optionally lazy loss terms.
* ``losses``: adversarial losses and penalties, per example.
* ``layers``, ``augment``, ``history``: shared layers, DiffAugment, the
  image history buffer.
* ``phases``: training phases (steps, batch size, resolution, fade-in).
* ``networks``: the ``Network`` base (config = constructor arguments).
* ``replicas``: collectives that keep N replicas equal to one device.
* ``registry``, ``errors``, ``unrolled``.
"""
