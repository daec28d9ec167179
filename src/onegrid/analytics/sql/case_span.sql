-- The first and the newest local day with a case: the history a backtest learns from and the
-- buckets it can score.
SELECT CAST(min(timezone($tz, created_at)) AS DATE) AS first_day,
       CAST(max(timezone($tz, created_at)) AS DATE) AS newest_day
FROM cases
