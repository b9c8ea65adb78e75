import CXone
import JSONCore
import Testing

@testable import Runbook

/// How an HTTP-level failure of the client becomes the error table a script branches on.
@Suite("BindingError: the script's view of an API failure")
struct BindingErrorTests {
    @Test func statusesMapToTheScriptsCodesAndKeepTheServersFieldErrors() {
        let body: JSONValue = ["message": "invalid queue", "errors": [["path": "maxWaitTime", "code": "range", "message": "too long"]]]
        let api = APIError.from(status: 400, body: body)
        #expect(api.kind == .badRequest && api.fieldErrors.count == 1)
        let script = BindingError(api)
        #expect(script.code == .invalid && script.status == 400 && script.message == "invalid queue")
        #expect(script.json["details"]?["errors"]?.arrayValue?.first?["path"] == "maxWaitTime")
        let pairs: [(Int, BindingError.Code)] = [(401, .unauthorized), (403, .forbidden), (404, .not_found), (409, .conflict), (412, .conflict),
                                                 (429, .rate_limited), (504, .timeout), (503, .unavailable), (422, .invalid)]
        for (status, code) in pairs { #expect(BindingError(APIError.from(status: status, body: nil)).code == code, "\(status)") }
    }

    @Test func anUnknownOutcomeSaysSoAndCountsItsAttempts() {
        var api = APIError(.network, message: "connection reset (the request may have been applied)", cause: "ECONNRESET")
        api.outcomeUnknown = true
        api.attempts = 3
        let script = BindingError(api)
        #expect(script.code == .network && script.attempts == 3)
        #expect(script.json["details"]?["outcome"] == "unknown")
        #expect(BindingError(APIError(.invalidRequest, message: "nan in body")).code == .invalid)
    }
}
