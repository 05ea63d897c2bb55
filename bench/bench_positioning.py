"""Full-data accuracy of WiFi positioning on UJIIndoorLoc; writes bench/results/positioning.json.

Radio map = trainingData only; figures on validationData (never used for tuning). The
configuration was chosen on a held-out 20 % of (reference point, user) groups of trainingData,
excluding at query time the fingerprints of the query's own user (validation users and phones
are unseen).

    uv run python bench/bench_positioning.py [--data DIR]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from hygie.location.positioning import Positioner, PositionerConfig, evaluate, read_radio_map

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=ROOT / ".." / "shared" / "data" / "ujiindoorloc"
    )
    args = parser.parse_args()
    train = read_radio_map(args.data / "trainingData.csv.gz")
    test = read_radio_map(args.data / "validationData.csv.gz")
    one_nn = PositionerConfig(k_building=1, k_level=1, k_position=1)
    results = {
        "dataset": "UJIIndoorLoc trainingData -> validationData",
        "engine": evaluate(Positioner.fit(train), test),
        "engine_config": PositionerConfig().__dict__,
        "baseline_1nn_same_representation": evaluate(Positioner.fit(train, one_nn), test),
    }
    out = ROOT / "bench" / "results" / "positioning.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
