"""A small bilingual labelled set built from phrase templates, the same for the same seed."""

from __future__ import annotations

import random

PLACES_ZH = ["幸福小区", "人民路", "东城街道", "滨江公园", "第三中学门口", "地铁站旁", "菜市场"]
PLACES_EN = ["Main Street", "the park", "Elm Avenue", "the subway exit", "Block 12", "the market"]

PROBLEMS = {
    "sanitation": {
        "zh": ["垃圾堆积无人清理", "垃圾桶满了发臭", "路边有建筑垃圾乱倒", "垃圾站污水横流"],
        "en": [
            "garbage piled up and not collected",
            "overflowing trash bins smell",
            "illegal dumping of rubbish",
            "litter everywhere on the sidewalk",
        ],
    },
    "roads": {
        "zh": ["路面塌陷有大坑", "井盖缺失很危险", "路灯不亮一片漆黑", "人行道砖破损"],
        "en": [
            "large pothole in the road",
            "missing manhole cover is dangerous",
            "street light out all night",
            "broken sidewalk pavement",
        ],
    },
    "noise": {
        "zh": ["深夜施工噪音扰民", "广场舞音响太吵", "酒吧音乐声音很大", "工地机器轰鸣到凌晨"],
        "en": [
            "loud music from the bar late at night",
            "construction noise after midnight",
            "neighbours party with loud speakers",
            "barking and shouting all night",
        ],
    },
}
LABELS = tuple(PROBLEMS)


def bilingual_messages(per_label: int = 30, seed: int = 7) -> tuple[list[str], list[str]]:
    """``per_label`` messages for each label, half Chinese and half English, shuffled."""
    rnd = random.Random(seed)
    texts: list[str] = []
    labels: list[str] = []
    for label, phrases in PROBLEMS.items():
        for i in range(per_label):
            if i % 2 == 0:
                text = f"{rnd.choice(PLACES_ZH)}{rnd.choice(phrases['zh'])}，请尽快处理。"
            else:
                text = f"At {rnd.choice(PLACES_EN)}: {rnd.choice(phrases['en'])}, please fix."
            texts.append(text)
            labels.append(label)
    order = list(range(len(texts)))
    rnd.shuffle(order)
    return [texts[i] for i in order], [labels[i] for i in order]
