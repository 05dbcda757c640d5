-- One screening's counters, atomically (API.md Part 3, "Signals"), after
-- writing the failures this process had not yet written (failures.lua,
-- which this text follows). KEYS: 1 the IP's block (until, in ms; the TTL
-- only frees memory), 2 failures of the IP (member: attempt), 3 failed
-- cards of the IP (member: fingerprint), 4 attempts of the card, 5 failures
-- of the card, 6 attempts of the IP, 7 cards of the e-mail.
-- ARGV: 1 now (ms), 2 attempt id, 3 fingerprint ("" for none), 4 e-mail,
-- 5 card-testing window, 6 failures, 7 distinct cards, 8 block (ms),
-- 9 card window, 10 IP window, 11 e-mail window, 12 "true" if an IP is known,
-- then the failures from ARGV[13], their keys from KEYS[8].
-- Returns {card_testing 0|1, card attempts, card failures, IP attempts, e-mail cards}.
local now = tonumber(ARGV[1])
local id, fp, email = ARGV[2], ARGV[3], ARGV[4]
failures(8, 13, now, tonumber(ARGV[5]), tonumber(ARGV[9]))
local function window(key, ms)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - ms)
end
local function add(key, member, ms)
  window(key, ms)
  redis.call('ZADD', key, now, member)
  redis.call('PEXPIRE', key, ms)
  return redis.call('ZCARD', key)
end

local testing, ipAttempts = 0, 0
if ARGV[12] == 'true' then
  local blockedUntil = tonumber(redis.call('GET', KEYS[1]) or '0')
  if blockedUntil > now then
    testing = 1
  else
    local tw = tonumber(ARGV[5])
    window(KEYS[2], tw)
    window(KEYS[3], tw)
    if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[6]) and redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[7]) then
      redis.call('SET', KEYS[1], now + tonumber(ARGV[8]), 'PX', tonumber(ARGV[8]))
      testing = 1
    end
  end
  ipAttempts = add(KEYS[6], id, tonumber(ARGV[10]))
end

local cardAttempts, cardFailures, emailCards = 0, 0, 0
if fp ~= '' then
  local cw = tonumber(ARGV[9])
  cardAttempts = add(KEYS[4], id, cw)
  window(KEYS[5], cw)
  cardFailures = redis.call('ZCARD', KEYS[5])
  if email ~= '' then
    emailCards = add(KEYS[7], fp, tonumber(ARGV[11]))
  end
end
return {testing, cardAttempts, cardFailures, ipAttempts, emailCards}
