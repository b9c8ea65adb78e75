local pick = require("cx.pick")
local A = require("assert")

local T = {}

function T.first_by_name_without_touching_the_list()
  local list = { { name = "c" }, { name = "a" }, { name = "b" } }
  A.eq(pick.by_name(list, 2), { { name = "a" }, { name = "b" } })
  A.eq(list[1].name, "c")
  A.eq(#pick.by_name(list), 3)
  A.eq(#pick.by_name(list, 10), 3)
  A.eq(pick.by_name({}, 3), {})
end

function T.a_list_or_limit_it_cannot_use_fails_at_the_caller()
  A.fails(function() pick.by_name(nil, 3) end, "cx.pick.by_name: list must be a table, got nil")
  A.fails(function() pick.by_name({}, "3") end, "cx.pick.by_name: limit must be a whole number, got \"3\"")
end

return T

