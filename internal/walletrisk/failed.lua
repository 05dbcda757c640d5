-- A failed wallet card attempt (any 402). KEYS: 1 failures of the IP
-- (member: attempt), 2 failed cards of the IP (member: fingerprint),
-- 3 failures of the user, 4 failed cards of the user. ARGV: 1 now (ms),
-- 2 attempt id, 3 fingerprint, 4 card-testing window, 5 "true" if an IP
-- is known.
local now, ms = tonumber(ARGV[1]), tonumber(ARGV[4])
local function add(key, member)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - ms)
  redis.call('ZADD', key, now, member)
  redis.call('PEXPIRE', key, ms)
end
if ARGV[5] == 'true' then
  add(KEYS[1], ARGV[2])
  add(KEYS[2], ARGV[3])
end
add(KEYS[3], ARGV[2])
add(KEYS[4], ARGV[3])
return 1
