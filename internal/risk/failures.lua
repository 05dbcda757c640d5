-- Failed card attempts (any 402) not yet written, and the function that
-- writes them; screen.lua and failed.lua follow this text and call it
-- first. From KEYS[k], three keys a failure: failures of its IP (member:
-- attempt), failed cards of its IP (member: fingerprint), failures of its
-- card (member: attempt). ARGV[a] is their number, then four values a
-- failure: when (ms), attempt id, fingerprint ("" for none), "true" if
-- its IP is known. tw and cw are the card-testing and card windows (ms):
-- entries older than now minus their window are dropped.
local function failures(k, a, now, tw, cw)
  local function add(key, at, member, ms)
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now - ms)
    redis.call('ZADD', key, 'GT', at, member)
    redis.call('PEXPIRE', key, ms)
  end
  for i = 0, tonumber(ARGV[a]) - 1 do
    local at, id, fp = tonumber(ARGV[a + 1 + 4 * i]), ARGV[a + 2 + 4 * i], ARGV[a + 3 + 4 * i]
    if ARGV[a + 4 + 4 * i] == 'true' then
      add(KEYS[k + 3 * i], at, id, tw)
      if fp ~= '' then
        add(KEYS[k + 1 + 3 * i], at, fp, tw)
      end
    end
    if fp ~= '' then
      add(KEYS[k + 2 + 3 * i], at, id, cw)
    end
  end
end
