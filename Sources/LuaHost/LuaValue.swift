import JSONCore

/// A value crossing the Lua ↔ Swift boundary: JSON, with integers kept apart from doubles.
public typealias LuaValue = JSONValue
