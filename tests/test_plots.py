"""SVG training curves for model cards, and the card's curve section."""

import json
import math
import xml.etree.ElementTree as ET

import pytest

from zoo import cards, plots
from zoo.published import published_fid

SVG = "{http://www.w3.org/2000/svg}"

CURVE = {
    "network": "inception", "num_samples": 2000, "real_split": "test", "seed": 0, "metric": "fid",
    "every": 100,
    "points": [
        {"step": 100, "seconds": 70.0, "fid_seconds": 10.0, "train_seconds": 60.0, "fid": 200.0},
        {"step": 200, "seconds": 140.0, "fid_seconds": 20.0, "train_seconds": 120.0, "fid": 40.0},
        {"step": 300, "seconds": 210.0, "fid_seconds": 30.0, "train_seconds": 180.0, "fid": 15.0},
        {"step": 400, "seconds": 280.0, "fid_seconds": 40.0, "train_seconds": 240.0, "fid": 9.5},
        {"step": 500, "seconds": 350.0, "fid_seconds": 50.0, "train_seconds": 300.0, "fid": 11.0},
    ],
    "best": {"step": 400, "fid": 9.5, "weights": "ckpt-00000400.weights.h5"},
}


def polyline_points(svg):
    root = ET.fromstring(svg)
    lines = [e for e in root.iter(f"{SVG}polyline") if e.get("class") == "series"]
    return [[tuple(map(float, pair.split(","))) for pair in line.get("points").split()] for line in lines]


def test_nice_ticks_cover_the_range_with_round_steps():
    assert plots.nice_ticks(0, 9370) == [0, 2500, 5000, 7500, 10000]
    assert plots.nice_ticks(3.2, 7.9) == [2, 4, 6, 8]
    with pytest.raises(ValueError, match="finite"):
        plots.nice_ticks(0, math.inf)


def test_log_axis_places_decades_evenly_and_x_linearly():
    body, size = plots.line_plot_svg([("fid", [(0, 1.0), (50, 10.0), (100, 100.0)])], "step", "FID",
                                     log_y=True)
    svg = plots.side_by_side([(body, size)])
    (points,) = polyline_points(svg)
    (x0, y0), (x1, y1), (x2, y2) = points
    # Equal steps in x and equal ratios in y are equal distances.
    assert x1 - x0 == pytest.approx(x2 - x1, abs=0.11)
    assert y0 - y1 == pytest.approx(y1 - y2, abs=0.11) and y0 > y1 > y2  # up is smaller y
    with pytest.raises(ValueError, match="positive"):
        plots.line_plot_svg([("fid", [(0, 0.0)])], "step", "FID", log_y=True)
    with pytest.raises(ValueError, match="empty"):
        plots.line_plot_svg([("fid", [])], "step", "FID")


def test_fid_curve_svg_has_both_panels_and_the_targets():
    svg = plots.fid_curve_svg(CURVE, targets=[("FID 10", 10)])
    by_step, by_time = polyline_points(svg)
    assert len(by_step) == len(by_time) == 5
    # Same FIDs, so the same heights in both panels.
    assert [y for _, y in by_step] == [y for _, y in by_time]
    root = ET.fromstring(svg)
    assert len([e for e in root.iter(f"{SVG}line") if e.get("class") == "reference"]) == 2
    assert plots.first_time_below(CURVE, 20) == (300, 180.0)
    assert plots.first_time_below(CURVE, 10) == (400, 240.0)
    assert plots.first_time_below(CURVE, 5) is None


def test_card_draws_the_curve_and_names_the_step_exported(tmp_path):
    export_dir = tmp_path / "dcgan_mnist"
    export_dir.mkdir()
    metadata = {"architecture": "dcgan", "preset": "dcgan_mnist", "command": "python recipes/dcgan.py",
                "step": 400, "final_step": 500, "fid_curve": CURVE,
                "selected_by_fid": {"step": 400, "fid": 9.5, "metric": "fid"}}
    (export_dir / "metadata.json").write_text(json.dumps(metadata))
    scores = tmp_path / "scores.json"
    scores.write_text(json.dumps({"dataset": "mnist", "real_split": "test", "num_real": None,
                                  "num_samples": 10000, "fid": 8.25, "kid_mean": 0.004,
                                  "command": "python -m zoo.evaluate ..."}))
    text = cards.write_card(export_dir, scores=[scores])
    assert (export_dir / "fid_curve.svg").is_file()
    assert "![FID against steps and minutes of training](fid_curve.svg)" in text
    assert "step 400's, the lowest on the curve (9.50)" in text
    assert "FID 20 at step 300 after 3.0 minutes of training; FID 10 at step 400 after 4.0 minutes" in text
    assert "| 400 | 4.0 | 9.50 |" in text
    assert "4 minutes of training to that step (FID scoring left out; the run went on to step 500)" in text
    # Where the best step is the last, the card does not say the run went on.
    (export_dir / "metadata.json").write_text(json.dumps({**metadata, "final_step": 400}))
    assert "(FID scoring left out; the run's last step)" in cards.write_card(export_dir, scores=[scores])
    # The published value sits in the score table, its source below it.
    label, fid, source = published_fid("dcgan", "mnist")[0]
    assert f"| published: {label} | {fid:.2f} |" in text and source in text
    assert "| **dcgan_mnist** | 8.25 | 4.00 |" in text


def test_published_values_only_beside_scores_at_their_protocol(tmp_path):
    export_dir = tmp_path / "m"
    export_dir.mkdir()
    (export_dir / "metadata.json").write_text(json.dumps({"architecture": "dcgan", "preset": "dcgan_mnist"}))
    scores = tmp_path / "scores.json"
    scores.write_text(json.dumps({"dataset": "mnist", "real_split": "test", "num_samples": 2000, "fid": 30.0}))
    assert "published" not in cards.write_card(export_dir, scores=[scores])
    assert published_fid("dcgan", "../shared/datasets/mnist") == published_fid("dcgan", "mnist") != []
    assert published_fid("dcgan", "celeb_a") == []


def test_readme_table_lists_models_scored_at_the_protocol_with_published_values(tmp_path):
    folder = tmp_path / "dcgan_mnist"
    folder.mkdir()
    (folder / "metadata.json").write_text(json.dumps({"step": 5622, "seconds_total": 1800.0}))
    (folder / "samples.png").write_bytes(b"png")
    scores = {"dataset": "mnist", "num_samples": 10000, "fid": 8.25, "kid_mean": 0.0042,
              "precision": 0.7, "recall": 0.6}
    floors = tmp_path / "floors"
    floors.mkdir()
    (floors / "mnist_train_vs_test.json").write_text(json.dumps({"fid": 1.1}))
    models = {
        "dcgan_mnist": {"architecture": "dcgan", "path": str(folder), "scores": scores},
        # Scored at 2,000 samples only: not comparable with papers, left out.
        "gan_mnist": {"architecture": "gan", "path": str(folder), "scores": {**scores, "num_samples": 2000}},
    }
    table = cards.pretrained_table(models, floors)
    assert ("| [`dcgan_mnist`](savedmodels/dcgan_mnist/README.md) | mnist | 5,622 steps, 30 min | **8.25** | "
            "6.8 (NS GAN) | 4.20 | 0.700 / 0.600 | 1.10 |") in table
    assert "gan_mnist" not in table.replace("dcgan_mnist", "")
    assert "![dcgan_mnist](savedmodels/dcgan_mnist/samples.png)" in table
    assert cards.floor_fid("../shared/datasets/mnist") == pytest.approx(1.556, abs=1e-3)  # the shipped floor
    # Our CIFAR-10 is a JPEG q75 copy (zoo.evaluate records it as the
    # source_note): the table and the card say so beside its scores.
    cifar_scores = {**scores, "dataset": "cifar10", "fid": 70.0, "source_note": "JPEG q75 copy"}
    cifar = {"dcgan_cifar10": {"architecture": "dcgan", "path": str(folder), "scores": cifar_scores}}
    assert "| cifar10 (JPEG q75 copy) | 5,622 steps, 30 min | **70.00** | 58.5 (NS GAN)" in \
        cards.pretrained_table(cifar, floors)
    scores_file = tmp_path / "cifar_scores.json"
    scores_file.write_text(json.dumps({**cifar_scores, "real_split": "test"}))
    assert "On the test split (10000 images), cifar10 (JPEG q75 copy):" in \
        cards.write_card(folder, scores=[scores_file])
    # Scored against TFDS's originals (no note), it is plain CIFAR-10.
    cifar["dcgan_cifar10"]["scores"] = {**cifar_scores, "source_note": None}
    assert "| cifar10 | 5,622 steps, 30 min | **70.00** |" in cards.pretrained_table(cifar, floors)

    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{cards.README_BEGIN}\nold table\n{cards.README_END}\noutro\n")
    cards.update_readme(readme, models, floors)
    text = readme.read_text()
    assert "old table" not in text and "**8.25**" in text
    assert text.startswith("intro\n") and text.endswith(f"{cards.README_END}\noutro\n")
    cards.update_readme(readme, models, floors)  # idempotent
    assert readme.read_text() == text
    (tmp_path / "plain.md").write_text("no markers\n")
    with pytest.raises(Exception, match="no .*pretrained-zoo:begin.* markers"):
        cards.update_readme(tmp_path / "plain.md", models, floors)
