"""Exact coarser H3 cells of points from one finer cell each: one latlng_to_cell pass, not three.

The H3 parent of a point's res-11 cell is the res-10 cell holding the point for only ~93 % of
points (children stick out of their parent; ADR 0002). Here the parent is a candidate, kept
where the point provably lies in the candidate's hexagon; the other points get latlng_to_cell
at the coarser resolution, so every answer equals h3's.

The proof is planar. H3 places a point in the gnomonic plane of the icosahedron face whose
centre is nearest and rounds it to the nearest centre of that face's hexagonal lattice. If the
point and the candidate's centre lie on the same face, the point belongs to the candidate when
their offset in that plane is inside the lattice's hexagon: within half the spacing along each
of the three lattice directions. The spacing and direction of the lattice on each face are read
off h3 (the cell at a face's centre and a neighbour), so no H3 table is copied here. Candidates
whose centre is near a face edge (or a pentagon, which sits on the icosahedron's corners) are
not judged; their points are recomputed.
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass

import h3.api.basic_int as h3i
import numpy as np
from numpy.typing import NDArray

from onegrid.grid.locator_h3 import Cells, Floats, cell_centers, cell_parents, points_to_cells

Vectors = NDArray[np.float64]  # (n, 3) unit vectors
Xyz = tuple[Floats, Floats, Floats]  # unit vectors as three columns: quicker than (n, 3) rows
# Points this close to a hexagon's edge (in lattice spacings) are recomputed: H3's own
# rounding works in doubles too, and 1e-6 of a spacing is far above either's error.
_EDGE_MARGIN = 1e-6
_SQRT3_2 = math.sqrt(3.0) / 2.0


@dataclass(frozen=True)
class _Lattice:
    """The res-``res`` hexagonal lattice of each icosahedron face, in the face's gnomonic plane
    (tangent at the face centre, unit sphere): ``frames[f]`` rows are the face centre, a unit
    lattice direction and its perpendicular; ``spacing`` is the distance between neighbours."""

    frames: Floats  # (20, 3, 3)
    spacing: float


def unit_vectors(lon: Floats, lat: Floats) -> Xyz:
    """Points on the unit sphere, as x, y and z columns."""
    lam, phi = np.radians(lon), np.radians(lat)
    cos_phi = np.cos(phi)
    return cos_phi * np.cos(lam), cos_phi * np.sin(lam), np.sin(phi)


def _rows(xyz: Xyz) -> Vectors:
    return np.column_stack(xyz)


@functools.cache
def _face_centres() -> Vectors:
    """The 20 face centres: the icosahedron's corners are H3's 12 res-0 pentagons."""
    corners = [h3i.cell_to_latlng(p) for p in h3i.get_pentagons(0)]
    lat, lon = np.array(corners).T
    vertex = _rows(unit_vectors(lon, lat))
    adjacent = np.abs(vertex @ vertex.T - 1.0 / math.sqrt(5.0)) < 1e-9
    faces = [
        t
        for t in itertools.combinations(range(len(vertex)), 3)
        if adjacent[t[0], t[1]] and adjacent[t[0], t[2]] and adjacent[t[1], t[2]]
    ]
    centres = np.array([vertex[list(t)].sum(axis=0) for t in faces])
    return centres / np.linalg.norm(centres, axis=1)[:, None]  # type: ignore[no-any-return]


@functools.cache
def _lattice(res: int) -> _Lattice:
    """Spacing and orientation of the res-``res`` lattice on each face, from h3's cells."""
    if res < 1:
        raise ValueError("res 0 cells are computed directly, not derived")
    frames, spacings = [], []
    for centre in _face_centres():
        lat, lon = (
            math.degrees(math.asin(centre[2])),
            math.degrees(math.atan2(centre[1], centre[0])),
        )
        middle = h3i.latlng_to_cell(lat, lon, res)
        neighbour = h3i.grid_ring(middle, 1)[0]
        n_lat, n_lon = h3i.cell_to_latlng(neighbour)
        point = _rows(unit_vectors(np.array([n_lon]), np.array([n_lat])))[0]
        step = point / (point @ centre) - centre
        spacing = float(np.linalg.norm(step))
        axis = step / spacing
        frames.append(np.stack([centre, axis, np.cross(centre, axis)]))
        spacings.append(spacing)
    return _Lattice(frames=np.array(frames), spacing=float(np.mean(spacings)))


def coarser_cells(finer: Cells, res: int, lon: Floats, lat: Floats, points: Xyz) -> Cells:
    """The res-``res`` cell of each point, given a finer cell of it (``finer``) and the point
    as lon/lat and as a unit vector (``unit_vectors``); equal to ``points_to_cells``.

    Sorted ``finer`` is quickest (the candidates' centres are then found without a sort)."""
    if finer.size == 0 or res == 0:
        return points_to_cells(lon, lat, res)
    candidates = cell_parents(finer, res)
    unique, inverse = _unique(candidates)
    if unique.size > finer.size // 2:
        # Points scattered one to a cell (a world-wide batch): the candidates' centres would
        # cost as much as the cells themselves.
        return points_to_cells(lon, lat, res)
    inside = _in_hexagon(unique, inverse, points, _lattice(res))
    outside = np.flatnonzero(~inside)
    if outside.size:
        candidates[outside] = points_to_cells(lon[outside], lat[outside], res)
    return candidates


def _unique(cells: Cells) -> tuple[Cells, NDArray[np.intp]]:
    if cells.size > 1 and bool(np.all(cells[1:] >= cells[:-1])):
        starts = np.empty(cells.size, dtype=bool)
        starts[0] = True
        np.not_equal(cells[1:], cells[:-1], out=starts[1:])
        return cells[starts], np.cumsum(starts, dtype=np.intp) - 1
    unique, inverse = np.unique(cells, return_inverse=True)
    return unique, inverse


def _in_hexagon(
    unique: Cells, inverse: NDArray[np.intp], points: Xyz, lattice: _Lattice
) -> NDArray[np.bool_]:
    """Whether each point lies, provably, in the hexagon of ``unique[inverse]``."""
    centres = _rows(unit_vectors(*cell_centers(unique)))
    face, judged = _faces_of(centres, lattice.spacing)
    faces = np.unique(face[judged]).tolist()
    if len(faces) == 1 and bool(judged.all()):
        # The usual case: a city on one face, away from its edges; no row picking.
        frame = lattice.frames[faces[0]]
        cu, cv = _plane(_columns(centres), frame) / lattice.spacing
        u, v = _plane(points, frame) / lattice.spacing
        return _hexagon(u - cu[inverse], v - cv[inverse])
    face_of_point = np.where(judged, face, -1)[inverse]
    inside = np.zeros(inverse.size, dtype=bool)
    x, y, z = points
    for f in faces:
        frame = lattice.frames[f]
        cells = np.flatnonzero(judged & (face == f))
        cu, cv = np.zeros(unique.size), np.zeros(unique.size)
        cu[cells], cv[cells] = _plane(_columns(centres[cells]), frame) / lattice.spacing
        rows = np.flatnonzero(face_of_point == f)
        at = inverse[rows]
        u, v = _plane((x[rows], y[rows], z[rows]), frame) / lattice.spacing
        inside[rows] = _hexagon(u - cu[at], v - cv[at])
    return inside


def _faces_of(centres: Vectors, spacing: float) -> tuple[NDArray[np.intp], NDArray[np.bool_]]:
    """Each cell centre's face, and whether every point within 2 ``spacing`` of the centre
    is on that face too (its point then has that face's lattice)."""
    margin = 2.0 * spacing
    # A city's cells usually lie in one cap clear of its face's edges: one test for all.
    middle = centres.sum(axis=0)
    length = float(np.linalg.norm(middle))
    if length > 1e-6 * len(centres):  # not for cells spread all round the globe
        middle /= length
        reach = float(np.arccos(np.clip(np.min(_dot(_columns(centres), middle)), -1.0, 1.0)))
        home = int(np.argmax(_face_centres() @ middle))
        if float(_clearance(middle[None, :], home)[0]) > reach + margin:
            return np.full(len(centres), home, dtype=np.intp), np.ones(len(centres), dtype=bool)
    columns = _columns(centres)
    face = np.zeros(len(centres), dtype=np.intp)
    best = np.full(len(centres), -2.0)
    for f, centre in enumerate(_face_centres()):
        closeness = _dot(columns, centre)
        nearer = closeness > best
        face[nearer], best[nearer] = f, closeness[nearer]
    judged = np.zeros(len(centres), dtype=bool)
    for f in np.unique(face).tolist():
        rows = np.flatnonzero(face == f)
        judged[rows] = _clearance(centres[rows], f) > margin
    return face, judged


def _clearance(points: Vectors, face: int) -> Floats:
    """Sine of each point's angle to the nearest border of ``face``'s region (negative off
    it); the angle is at least this. A border is where two face centres are equally near."""
    columns = _columns(points)
    clearance: Floats = np.min(
        np.column_stack([_dot(columns, n) for n in _borders()[face]]), axis=1
    )
    return clearance


@functools.cache
def _borders() -> Floats:
    """For each face, the unit normals of the great circles halfway to every other face,
    pointing towards the face: (20, 19, 3)."""
    centres = _face_centres()
    out = []
    for f, centre in enumerate(centres):
        towards = centre[None, :] - np.delete(centres, f, axis=0)
        out.append(towards / np.linalg.norm(towards, axis=1)[:, None])
    return np.array(out)


def _dot(columns: Xyz, vector: Floats) -> Floats:
    """Row-wise dot products with one vector, without BLAS (whose threads only contend here)."""
    x, y, z = columns
    a, b, c = vector.tolist()
    return x * a + y * b + z * c  # type: ignore[no-any-return]


def _columns(rows: Vectors) -> Xyz:
    return rows[:, 0], rows[:, 1], rows[:, 2]


def _plane(points: Xyz, frame: Floats) -> Floats:
    """Gnomonic (u, v) of points in a face's plane, along the frame's lattice axes: two rows."""
    w = _dot(points, frame[0])
    return np.stack([_dot(points, frame[1]) / w, _dot(points, frame[2]) / w])


def _hexagon(u: Floats, v: Floats) -> NDArray[np.bool_]:
    """Inside the lattice's hexagon around the origin (neighbours at distance 1 along 0°, 60°,
    120°), by the margin."""
    limit = 0.5 - _EDGE_MARGIN
    along = v * _SQRT3_2
    half = u * 0.5
    inside: NDArray[np.bool_] = np.abs(u) < limit
    inside &= np.abs(half + along) < limit
    inside &= np.abs(along - half) < limit
    return inside
