-- Failed wallet card attempts (any 402) not yet written, and the function
-- that writes them; screen.lua and failed.lua follow this text and call it
-- first. From KEYS[k], four keys a failure: failures of its IP (member:
-- attempt), failed cards of its IP (member: fingerprint), failures of its
-- user, failed cards of its user. ARGV[a] is their number, then four
-- values a failure: when (ms), attempt id, fingerprint, "true" if its IP
-- is known. tw is the card-testing window (ms): entries older than now
-- minus it are dropped.
local function failures(k, a, now, tw)
  local function add(key, at, member)
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now - tw)
    redis.call('ZADD', key, 'GT', at, member)
    redis.call('PEXPIRE', key, tw)
  end
  for i = 0, tonumber(ARGV[a]) - 1 do
    local at, id, fp = tonumber(ARGV[a + 1 + 4 * i]), ARGV[a + 2 + 4 * i], ARGV[a + 3 + 4 * i]
    if ARGV[a + 4 + 4 * i] == 'true' then
      add(KEYS[k + 4 * i], at, id)
      add(KEYS[k + 1 + 4 * i], at, fp)
    end
    add(KEYS[k + 2 + 4 * i], at, id)
    add(KEYS[k + 3 + 4 * i], at, fp)
  end
end
