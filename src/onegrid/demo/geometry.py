"""The demo city's shape: nested irregular polygons from seeded Voronoi cells.

Pure geometry, no database: the same seed always gives the same city.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import MultiPoint, Polygon

# A fictional city: admin codes under the unused province prefix 99, placed on open land in
# northern China so that GCJ-02 conversions and Beijing-like H3 cell sizes apply.
CITY_CODE = "990100"
CITY_NAME = ("示范市", "Demo City")
CENTRE = (116.95, 39.35)
# Degrees per km at that latitude; the city is about 9 km × 7 km.
_KM_LAT = 1 / 110.95
_KM_LON = 1 / (111.32 * math.cos(math.radians(CENTRE[1])))

DISTRICT_NAMES = [
    ("东湖区", "Donghu District"),
    ("西山区", "Xishan District"),
    ("南河区", "Nanhe District"),
    ("北苑区", "Beiyuan District"),
    ("中心区", "Zhongxin District"),
]
SUBDISTRICT_WORDS = [
    ("和平", "Heping"),
    ("建设", "Jianshe"),
    ("光明", "Guangming"),
    ("新华", "Xinhua"),
    ("人民", "Renmin"),
    ("长安", "Chang'an"),
    ("文化", "Wenhua"),
    ("青年", "Qingnian"),
    ("胜利", "Shengli"),
    ("幸福", "Xingfu"),
    ("花园", "Huayuan"),
    ("朝阳", "Chaoyang"),
    ("五一", "Wuyi"),
    ("解放", "Jiefang"),
    ("友谊", "Youyi"),
    ("振兴", "Zhenxing"),
    ("民主", "Minzhu"),
    ("团结", "Tuanjie"),
    ("春晖", "Chunhui"),
    ("金桥", "Jinqiao"),
]
COMMUNITY_WORDS = [
    ("枫林", "Fenglin"),
    ("桃园", "Taoyuan"),
    ("杏坛", "Xingtan"),
    ("松鹤", "Songhe"),
    ("翠竹", "Cuizhu"),
    ("海棠", "Haitang"),
    ("丁香", "Dingxiang"),
    ("银杏", "Yinxing"),
    ("锦绣", "Jinxiu"),
    ("怡景", "Yijing"),
    ("瑞祥", "Ruixiang"),
    ("康乐", "Kangle"),
]


@dataclass(frozen=True)
class SynthArea:
    code: str
    level: str
    parent_code: str | None
    name_zh: str
    name_en: str
    geometry: Polygon
    population: int


def _outline(rng: np.random.Generator) -> Polygon:
    """An irregular, star-shaped city outline (radius wobbling by ±15 %)."""
    angles = np.linspace(0, 2 * math.pi, 48, endpoint=False)
    wobble = 1 + 0.15 * np.sin(3 * angles + rng.uniform(0, 6)) + rng.uniform(-0.05, 0.05, 48)
    xs = CENTRE[0] + 4.5 * _KM_LON * wobble * np.cos(angles)
    ys = CENTRE[1] + 3.5 * _KM_LAT * wobble * np.sin(angles)
    return Polygon(zip(xs.tolist(), ys.tolist(), strict=True))


def _split(shape: Polygon, n: int, rng: np.random.Generator) -> list[Polygon]:
    """Cut a polygon into ``n`` irregular parts: a Voronoi diagram of seeded points inside."""
    minx, miny, maxx, maxy = shape.bounds
    points: list[tuple[float, float]] = []
    while len(points) < n:
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if shape.contains(shapely.Point(x, y)):
            points.append((x, y))
    cells = shapely.voronoi_polygons(MultiPoint(points), extend_to=shape.envelope)
    parts = [shapely.make_valid(c.intersection(shape)) for c in cells.geoms]
    polys = [_largest_polygon(p) for p in parts if not p.is_empty]
    # Order west→east then north→south so that codes read like a map.
    polys.sort(key=lambda p: (-round(p.centroid.y, 2), p.centroid.x))
    return polys


def _largest_polygon(geom: shapely.Geometry) -> Polygon:
    if isinstance(geom, Polygon):
        return geom
    polys = [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon)]
    return max(polys, key=lambda g: g.area)


def synth_city(seed: int) -> list[SynthArea]:
    """Districts → subdistricts → communities, coarsest first, with populations."""
    rng = np.random.default_rng(seed)
    outline = _outline(rng)
    areas = [SynthArea(CITY_CODE, "city", None, *CITY_NAME, outline, 0)]
    districts = _split(outline, len(DISTRICT_NAMES), rng)
    sub_words = iter(SUBDISTRICT_WORDS)
    for d_index, d_geom in enumerate(districts, start=1):
        d_code = f"{CITY_CODE[:4]}{d_index:02d}"
        d_zh, d_en = DISTRICT_NAMES[d_index - 1]
        areas.append(SynthArea(d_code, "district", CITY_CODE, d_zh, d_en, d_geom, 0))
        for s_index, s_geom in enumerate(_split(d_geom, 4, rng), start=1):
            s_code = f"{d_code}{s_index:03d}"
            w_zh, w_en = next(sub_words)
            areas.append(
                SynthArea(
                    s_code,
                    "subdistrict",
                    d_code,
                    f"{w_zh}街道",
                    f"{w_en} Subdistrict",
                    s_geom,
                    0,
                )
            )
            for c_index, c_geom in enumerate(_split(s_geom, 3, rng), start=1):
                c_zh, c_en = COMMUNITY_WORDS[(d_index * 7 + s_index * 3 + c_index) % 12]
                people = int(rng.integers(6_000, 18_000))
                areas.append(
                    SynthArea(
                        f"{s_code}{c_index:03d}",
                        "community",
                        s_code,
                        f"{w_zh}{c_zh}社区",
                        f"{w_en} {c_en} Community",
                        c_geom,
                        people,
                    )
                )
    return _with_populations(areas)


def _with_populations(areas: list[SynthArea]) -> list[SynthArea]:
    """Roll community populations up the tree so every tier has one."""
    totals: dict[str, int] = {}
    for a in reversed(areas):
        own = a.population or totals.get(a.code, 0)
        totals[a.code] = own
        if a.parent_code:
            totals[a.parent_code] = totals.get(a.parent_code, 0) + own
    return [
        SynthArea(a.code, a.level, a.parent_code, a.name_zh, a.name_en, a.geometry, totals[a.code])
        for a in areas
    ]
