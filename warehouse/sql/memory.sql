-- The engine's tracked memory and its non-empty caches' sizes (bytes); negative values
-- (a tracker's transient undercount) read as zero.
SELECT metric, toUInt64(greatest(value, 0)) AS bytes
FROM system.metrics
WHERE metric = 'MemoryTracking' OR (endsWith(metric, 'CacheBytes') AND value > 0)
ORDER BY metric
