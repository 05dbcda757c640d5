-- One wallet card attempt's counters, atomically (the platform's signals
-- for top-ups and withdrawals; internal/risk's screen.lua per merchant),
-- after writing the failures this process had not yet written
-- (failures.lua, which this text follows).
-- KEYS: 1 the IP's block, 2 the user's block (until, in ms; the TTL only
-- frees memory), 3 failures of the IP (member: attempt), 4 failed cards of
-- the IP (member: fingerprint), 5 failures of the user, 6 failed cards of
-- the user, 7 attempts of the card, 8 attempts of the IP, 9 cards of the user.
-- ARGV: 1 now (ms), 2 attempt id, 3 fingerprint, 4 card-testing window,
-- 5 failures, 6 distinct cards, 7 block (ms), 8 card window, 9 IP window,
-- 10 user-cards window, 11 "true" if an IP is known, then the failures
-- from ARGV[12], their keys from KEYS[10].
-- Returns {card_testing 0|1, card attempts, IP attempts, user cards}.
local now = tonumber(ARGV[1])
local id, fp, ip = ARGV[2], ARGV[3], ARGV[11] == 'true'
local tw, block = tonumber(ARGV[4]), tonumber(ARGV[7])
failures(10, 12, now, tw)
local function window(key, ms)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - ms)
end
local function add(key, member, ms)
  window(key, ms)
  redis.call('ZADD', key, now, member)
  redis.call('PEXPIRE', key, ms)
  return redis.call('ZCARD', key)
end
local function blocked(key)
  return tonumber(redis.call('GET', key) or '0') > now
end
local function reached(failures, cards)
  window(failures, tw)
  window(cards, tw)
  return redis.call('ZCARD', failures) >= tonumber(ARGV[5]) and redis.call('ZCARD', cards) >= tonumber(ARGV[6])
end

local testing = 0
if (ip and blocked(KEYS[1])) or blocked(KEYS[2]) then
  testing = 1
elseif (ip and reached(KEYS[3], KEYS[4])) or reached(KEYS[5], KEYS[6]) then
  -- Card testing from this IP or by this user: block both.
  if ip then
    redis.call('SET', KEYS[1], now + block, 'PX', block)
  end
  redis.call('SET', KEYS[2], now + block, 'PX', block)
  testing = 1
end

local ipAttempts = 0
if ip then
  ipAttempts = add(KEYS[8], id, tonumber(ARGV[9]))
end
local cardAttempts = add(KEYS[7], id, tonumber(ARGV[8]))
local userCards = add(KEYS[9], fp, tonumber(ARGV[10]))
return {testing, cardAttempts, ipAttempts, userCards}
