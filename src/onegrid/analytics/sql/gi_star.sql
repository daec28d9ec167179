-- Getis & Ord's Gi* (1995; the "star" form, where a cell is its own neighbour) of every cell of
-- the study region, as a z-score under the normal approximation. `region_counts` (cell, n) holds
-- every cell compared, one without a case of the category at 0; `cell_neighbours`
-- (cell, neighbour) the H3 ring of each cell, the cell itself included. Weights are binary; a
-- neighbour outside the region drops out in the join. A region of fewer than three cells gives
-- no rows, a flat one z = 0 everywhere (the denominator is 0).
-- The moments are integer sums divided once, not avg(): the sums are exact on any engine, so
-- every engine (and numpy) gets the same mean and standard deviation to the last bit, and
-- cells with the same neighbourhood sums tie exactly in the order. (Rounding can take a near-flat
-- region's variance an ulp below 0: it is 0.)
WITH x AS (SELECT cell, n FROM region_counts),
region AS (
    SELECT count(*) AS cells,
           CAST(sum(n) AS DOUBLE) / count(*) AS mean,
           CAST(sum(n * n) AS DOUBLE) / count(*) AS mean_square
    FROM x
),
moments AS (
    SELECT cells, mean, sqrt(greatest(mean_square - mean * mean, 0)) AS s
    FROM region WHERE cells >= 3
),
w AS (
    -- Binary weights, as DOUBLE (a literal 1.0 is a DECIMAL in DuckDB, slower and not the
    -- arithmetic of other engines).
    SELECT p.cell, CAST(1 AS DOUBLE) AS w, x.n
    FROM cell_neighbours p JOIN x ON x.cell = p.neighbour
),
lag AS (
    -- The weighted sum of the neighbourhood's counts, W_i (sum of weights) and S1_i (sum of
    -- squared weights); with binary weights the two are the neighbourhood's size.
    SELECT cell, sum(w * n) AS lag, sum(w) AS w_i, sum(w * w) AS s1_i FROM w GROUP BY cell
)
SELECT x.cell, x.n,
       coalesce(
           (l.lag - m.mean * l.w_i)
               / nullif(m.s * sqrt((m.cells * l.s1_i - l.w_i * l.w_i) / (m.cells - 1)), 0),
           0
       ) AS z
FROM x JOIN lag l USING (cell) CROSS JOIN moments m
ORDER BY z DESC, x.cell
