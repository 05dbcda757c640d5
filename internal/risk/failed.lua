-- Failed card attempts that no screening carried (after failures.lua).
-- ARGV: 1 now (ms), 2 card-testing window, 3 card window, then the
-- failures from ARGV[4], their keys from KEYS[1].
failures(1, 4, tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]))
return 1
