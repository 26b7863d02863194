-- The breakdown values shown on their own: the most frequent among the matching events of
-- the current period (ties by value); the rest is folded into "other".
SELECT {{value}} AS v
FROM {{from}}
WHERE {{conditions}}
GROUP BY v
ORDER BY count() DESC, v
LIMIT {{limit}}
