import JSONCore

/// One invalid field in a request: the `errors` entries of a 400 response.
struct FieldError: Sendable, Equatable {
    var path: String
    var code: String
    var message: String

    var json: JSONValue { ["path": .string(path), "code": .string(code), "message": .string(message)] }
}
