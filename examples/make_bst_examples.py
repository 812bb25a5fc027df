#!/usr/bin/env python3
"""Writes random raw examples for examples/bst_ranker.yaml as JSON Lines.

Click histories have log-normal lengths (most short, a few long), the mix
that makes padding expensive. `make demo` runs them through `lmc run`.
Each example also carries the label `clicked`, a rule over its features
(young users, and anyone looking at books or music, click), so
`lmc train` has something to learn.

    python3 examples/make_bst_examples.py --count 512 --seed 1 > examples.jsonl
"""
import argparse
import json
import math
import random
import sys

COUNTRIES = ["US", "DE", "JP", "FR", "BR", "IN", "CA", "MX"]
CATEGORIES = ["books", "shoes", "toys", "garden", "music", "sports", "tools", "food"]


def clicked(features):
    return 1.0 if features["user_age"] < 35 or features["item_category"] in ("books", "music") else 0.0


def example(rng, max_length):
    length = min(max_length, max(1, int(rng.lognormvariate(math.log(24), 0.9))))
    features = {
        "user_age": round(rng.uniform(16, 80), 1),
        "user_country": rng.choice(COUNTRIES),
        "user_tags": [f"tag{rng.randrange(200)}" for _ in range(5)],
        "user_tag_weights": [round(rng.random(), 3) for _ in range(5)],
        "item_category": rng.choice(CATEGORIES),
        "item_brand": f"brand{rng.randrange(300)}",
        "item_price": round(rng.lognormvariate(3, 1), 2),
        "hour_of_day": rng.randrange(24),
        "click_history": [f"item{rng.randrange(50000)}" for _ in range(length)],
    }
    features["clicked"] = clicked(features)
    return features


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=512)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-length", type=int, default=256)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    for _ in range(args.count):
        sys.stdout.write(json.dumps(example(rng, args.max_length)) + "\n")


if __name__ == "__main__":
    main()
