local diff = require("cx.diff")
local A = require("assert")

local T = {}

function T.equal_values_have_no_changes()
  A.eq(diff.diff({ a = 1, b = { 1, 2 } }, { a = 1, b = { 1, 2 } }), {})
  A.eq(diff.diff("x", "x"), {})
end

function T.nested_changes_have_dotted_and_indexed_paths()
  local old = { routing = { strategy = "priority" },
                skills = { { id = "s1", level = 2 }, { id = "s2", level = 3 } } }
  local new = { routing = { strategy = "longest_idle" },
                skills = { { id = "s1", level = 2 }, { id = "s2", level = 5 } } }
  A.eq(diff.diff(old, new), {
    { path = "routing.strategy", from = "priority", to = "longest_idle" },
    { path = "skills[2].level", from = 3, to = 5 },
  })
end

function T.added_and_removed_fields()
  local changes = diff.diff({ a = 1, gone = true }, { a = 1, new = "x" })
  A.eq(diff.paths(changes), { "gone", "new" })
  A.eq(diff.format(changes), '- gone: true\n+ new: "x"')
end

function T.array_length_changes()
  A.eq(diff.diff({ 1, 2 }, { 1, 2, 3 }), { { path = "[3]", to = 3 } })
end

function T.type_changes_are_one_change()
  A.eq(diff.diff({ a = { 1 } }, { a = "one" }), { { path = "a", from = { 1 }, to = "one" } })
  A.eq(diff.diff(1, 2), { { path = "(root)", from = 1, to = 2 } })
end

function T.render_is_deterministic()
  A.eq(diff.render({ b = 1, a = { 3, 4 }, c = "x" }), '{a=[3, 4], b=1, c="x"}')
  A.eq(diff.format({ { path = "p", from = 1, to = 2 } }), "~ p: 1 -> 2")
end

function T.is_array()
  A.eq(diff.is_array({ 1, 2 }), true)
  A.eq(diff.is_array({}), false)
  A.eq(diff.is_array({ 1, nil, 3 }), false)
  A.eq(diff.is_array({ 1, x = 2 }), false)
end

return T
