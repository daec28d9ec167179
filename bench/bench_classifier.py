"""The text classifier: training time on 100 k labelled messages and classification throughput.

Run: ``python bench/bench_classifier.py [--rows 100000] [--classify 20000]`` (about a minute).
Everything runs on one thread (BLAS pools limited to 1). The messages are synthetic but made of
real text: half recombine sentences of the TipDM citizen messages within each first-level
category (a real subject, then 2–4 sentences of other messages of the same category), half are
NYC 311 requests (complaint type, descriptor, location type) labelled by agency: 21 labels,
Chinese and English mixed. Each figure is printed beside the raw limit of the same run:
- training vs fitting the TF-IDF vectoriser alone (the n-gram counting any such model pays);
- classifying vs the vectoriser's ``transform`` alone on the same texts.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import random
import re
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

from threadpoolctl import threadpool_limits

from onegrid.core.clock import FixedClock
from onegrid.dispatch.classifier import ClassifierConfig, compose, load, normalise, save, train
from onegrid.dispatch.classifier.features import build_vectorizer

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SENTENCE_END = re.compile(r"(?<=[。！？!?；;])")


def tipdm_pools(path: Path) -> dict[str, list[tuple[str, list[str]]]]:
    """Per category: (subject, sentences of the detail) of every message."""
    pools: dict[str, list[tuple[str, list[str]]]] = defaultdict(list)
    with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            detail = " ".join(row["留言详情"].split())
            sentences = [s for s in SENTENCE_END.split(detail) if s.strip()]
            pools[row["一级分类"]].append((row["留言主题"], sentences or [detail]))
    return pools


def nyc_requests(path: Path) -> list[tuple[str, str]]:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
        return [
            (f"{r['complaint_type']}: {r['descriptor']} at {r['location_type']}", r["agency"])
            for r in csv.DictReader(fh)
        ]


def synthetic_messages(n: int, seed: int) -> tuple[list[str], list[str]]:
    rnd = random.Random(seed)
    pools = tipdm_pools(DATA / "cn_citizen_messages_tipdm2020_495.csv.gz")
    nyc = nyc_requests(DATA / "nyc311_2026-04to06_100k.csv.gz")
    categories = sorted(pools)
    title_weight = ClassifierConfig().title_weight
    texts, labels = [], []
    for i in range(n):
        if i % 2 == 0:
            label = rnd.choice(categories)
            subject, _ = rnd.choice(pools[label])
            body = "".join(
                rnd.choice(rnd.choice(pools[label])[1]) for _ in range(rnd.randint(2, 4))
            )
            texts.append(compose(subject, body, title_weight=title_weight))
        else:
            text, label = rnd.choice(nyc)
            texts.append(text)
        labels.append(label)
    return texts, labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="training messages")
    parser.add_argument("--classify", type=int, default=20_000, help="messages to classify")
    args = parser.parse_args()
    if not DATA.is_dir():
        sys.exit(f"shared data not found at {DATA}")

    texts, labels = synthetic_messages(args.rows, seed=1)
    fresh, _ = synthetic_messages(args.classify, seed=2)
    mean_chars = sum(map(len, texts)) / len(texts)
    print(
        f"{len(texts):,} training messages ({len(set(labels))} labels, "
        f"mean {mean_chars:.0f} chars); {len(fresh):,} to classify"
    )

    with threadpool_limits(limits=1):
        start = time.perf_counter()
        vectorizer = build_vectorizer(ClassifierConfig())
        vectorizer.fit_transform([normalise(t) for t in texts])
        fit_limit = time.perf_counter() - start

        start, cpu = time.perf_counter(), time.process_time()
        model = train(texts, labels)
        train_time = time.perf_counter() - start
        train_cpu = time.process_time() - cpu
        print(
            f"train {len(texts):>7,} messages          {train_time:8.1f} s   raw limit "
            f"(vectoriser fit alone) {fit_limit:6.1f} s   ratio {fit_limit / train_time:5.2f}"
            f"   [{train_cpu:.1f} s CPU; {model.vocabulary_size:,} n-grams]"
        )

        start = time.perf_counter()
        model.vectorizer.transform([normalise(t) for t in fresh])
        transform_rate = len(fresh) / (time.perf_counter() - start)

        start = time.perf_counter()
        model.predict_many(fresh)
        batch_rate = len(fresh) / (time.perf_counter() - start)
        show("classify, predict_many (batch)", batch_rate, transform_rate)

        one_by_one = fresh[:2_000]
        start = time.perf_counter()
        for text in one_by_one:
            model.suggest(text, k=3)
        single_rate = len(one_by_one) / (time.perf_counter() - start)
        show("classify, suggest() one at a time", single_rate, transform_rate)

        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            card = save(model, Path(tmp) / "bench", clock=FixedClock(datetime.now(UTC)))
            save_time = time.perf_counter() - start
            assert card.path is not None
            size = (card.path / card.model_file).stat().st_size
            start = time.perf_counter()
            loaded = load(Path(tmp) / "bench")
            load_time = time.perf_counter() - start
            assert loaded.predict_many(fresh[:500]) == model.predict_many(fresh[:500])
        print(f"save {save_time:.1f} s, load {load_time:.1f} s, model file {size / 1e6:.1f} MB")


def show(name: str, ours: float, limit: float) -> None:
    print(
        f"{name:<34} {ours:10,.0f} msg/s   raw limit (vectoriser transform alone) "
        f"{limit:10,.0f} msg/s   ratio {ours / limit:5.2f}"
    )


if __name__ == "__main__":
    main()
