-- A failed card attempt (any 402). KEYS: 1 failures of the IP (member:
-- attempt), 2 failed cards of the IP (member: fingerprint), 3 failures of
-- the card. ARGV: 1 now (ms), 2 attempt id, 3 fingerprint, 4 card-testing
-- window, 5 card window, 6 "true" if an IP is known.
local now = tonumber(ARGV[1])
local function add(key, member, ms)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - ms)
  redis.call('ZADD', key, now, member)
  redis.call('PEXPIRE', key, ms)
end
if ARGV[6] == 'true' then
  add(KEYS[1], ARGV[2], tonumber(ARGV[4]))
  if ARGV[3] ~= '' then
    add(KEYS[2], ARGV[3], tonumber(ARGV[4]))
  end
end
if ARGV[3] ~= '' then
  add(KEYS[3], ARGV[2], tonumber(ARGV[5]))
end
return 1
