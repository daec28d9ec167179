-- The monthly ranking over the three-rate table: rank by score (units without a score last),
-- the band each score falls in (bands: the highest lower bound it reaches).
SELECT
    rank() OVER (ORDER BY score DESC NULLS LAST) AS rank,
    r.*,
    (SELECT b.band FROM bands b WHERE r.score >= b.min_score ORDER BY b.min_score DESC LIMIT 1)
        AS band
FROM three_rates r
ORDER BY rank, unit
