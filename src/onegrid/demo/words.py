"""What citizens and inspectors say about each demo category, and the texts made of it.

The demo's cases carry these texts so that a case page reads like a city's, and so that the
demo can train its hotline classifier from its own history, as a city trains from its labelled
cases: a few ways of saying each problem (mostly Chinese, as the city hears it, some English),
said at different places and with different complaints about how long it has lasted.
"""

from __future__ import annotations

import numpy as np

WORDS: dict[str, tuple[str, ...]] = {
    "E0102": (
        "路边垃圾堆放多日无人清理",
        "小区门口有暴露垃圾，气味很大",
        "垃圾桶满了溢出来，苍蝇很多",
        "绿化带里有人乱扔建筑垃圾",
        "rubbish piled up on the pavement for days",
    ),
    "E0504": (
        "人行道上违章停车，行人无法通过",
        "消防通道被私家车占用",
        "路口有车辆乱停乱放，堵住了公交站",
        "共享单车堆在盲道上",
        "cars parked on the footpath, people walk in the road",
    ),
    "E0601": (
        "家里暖气不热，室温只有十几度",
        "楼里暖气管道漏水",
        "供暖以后暖气片还是冰凉的",
        "老人家里没有暖气，很冷",
        "the radiators are cold since the heating season began",
    ),
    "E0406": (
        "下雨后路口积水很深，车辆熄火",
        "地下通道积水",
        "小区门口一下雨就积水，出不了门",
        "桥下积水没过膝盖",
        "the underpass floods every time it rains",
    ),
    "E0405": (
        "下水道堵塞，污水冒到路面",
        "雨水井堵了，排水不畅",
        "井盖周围往外冒污水，很臭",
        "排水沟被落叶堵住了",
        "a blocked drain, sewage on the street",
    ),
    "E0407": (
        "人行道结冰没有清扫，老人滑倒",
        "桥面积雪未清",
        "下雪后小路上的雪没人扫，很滑",
        "台阶上结了一层冰",
        "ice on the pavement, nobody cleared the snow",
    ),
    "E0508": (
        "夜里饭馆噪音扰民",
        "商铺外放音响声音太大",
        "工地晚上十一点还在施工，吵得睡不着",
        "广场舞音乐声音太大",
        "loud music from a shop late at night",
    ),
    "E0501": (
        "路口有无照游商占道经营",
        "早市摊贩占用人行道",
        "烧烤摊占道经营，油烟很大",
        "水果摊把货摆到马路上",
        "street vendors block the pavement",
    ),
    "E0108": (
        "道路破损有大坑，非常危险",
        "人行道砖松动翘起",
        "路面塌陷了一块",
        "马路上的坑把自行车绊倒了",
        "a deep pothole in the road",
    ),
    "E0201": (
        "楼道和电线杆上贴满小广告",
        "墙上喷涂办证小广告",
        "公交站牌上贴了很多小广告",
        "小区门口的墙被乱涂乱画",
        "illegal adverts stuck all over the lamp posts",
    ),
}

_PLACES = ("", "", "小区东门", "学校附近", "菜市场旁边", "公交站旁", "我家楼下", "路口")
_TAILS = ("", "", "，已经好几天了", "，反映过多次了", "，希望尽快处理", "，请派人来看看")


def words_for(category: str) -> tuple[str, ...]:
    return WORDS.get(category, ("demo case",))


def describe(rng: np.random.Generator, category: str) -> str:
    """One way of telling the problem of ``category``; an English phrase is said as it is."""
    said = words_for(category)[int(rng.integers(0, len(words_for(category))))]
    if said.isascii():
        return said
    place = _PLACES[int(rng.integers(0, len(_PLACES)))]
    tail = _TAILS[int(rng.integers(0, len(_TAILS)))]
    return f"{place}{said}{tail}"
