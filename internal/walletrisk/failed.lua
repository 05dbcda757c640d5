-- Failed wallet card attempts that no screening carried (after
-- failures.lua). ARGV: 1 now (ms), 2 card-testing window, then the
-- failures from ARGV[3], their keys from KEYS[1].
failures(1, 3, tonumber(ARGV[1]), tonumber(ARGV[2]))
return 1
