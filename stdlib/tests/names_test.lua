local names = require("cx.names")
local A = require("assert")

local T = {}

function T.distance_counts_a_swap_of_neighbours_as_one_edit()
  A.eq(names.distance("channel", "channel"), 0)
  A.eq(names.distance("chanel", "channel"), 1)
  A.eq(names.distance("chnage", "change"), 1)
  A.eq(names.distance("", "abc"), 3)
  A.eq(names.distance("kitten", "sitting"), 3)
end

function T.nearest_is_a_slip_or_nothing()
  local known = { "channel", "strategy", "limit", "maxWaitTime", "id" }
  A.eq(names.nearest("chanel", known), "channel")
  A.eq(names.nearest("CHANNEL", known), "channel", "case is ignored")
  A.eq(names.nearest("lmit", known), "limit")
  A.eq(names.nearest("maxWaitTme", known), "maxWaitTime")
  A.eq(names.nearest("maxwait", known), nil, "four edits from maxWaitTime is no slip")
  A.eq(names.nearest("ix", known), "id", "one edit for a short name")
  A.eq(names.nearest("xy", known), nil)
  A.eq(names.nearest("anything", {}), nil)
  A.eq(names.nearest("ab", { "ac", "ab_" }), "ab_", "ties go to the one that sorts first")
end

return T
