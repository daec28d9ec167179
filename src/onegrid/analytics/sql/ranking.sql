-- The monthly ranking over the three-rate table: rank by score, equal scores sharing a rank;
-- a unit without a score (nothing to rate this month) has no rank rather than the peers' rank
-- 1 that rank() gives every null, and comes last. The band: the highest lower bound reached.
SELECT
    CASE WHEN r.score IS NULL THEN NULL
        ELSE rank() OVER (ORDER BY r.score DESC NULLS LAST) END AS rank,
    r.*,
    (SELECT b.band FROM bands b WHERE r.score >= b.min_score ORDER BY b.min_score DESC LIMIT 1)
        AS band
FROM three_rates r
ORDER BY rank NULLS LAST, unit
