import Foundation

/// Waits until `condition` holds, checking every `poll`; false if it still does not after
/// `limit` (a bound against hanging, far above what a loaded machine needs).
public func eventually(
    within limit: Duration = .seconds(60), poll: Duration = .milliseconds(20), _ condition: () async throws -> Bool
) async throws -> Bool {
    let deadline = ContinuousClock.now + limit
    while true {
        if try await condition() { return true }
        if ContinuousClock.now >= deadline { return false }
        try await Task.sleep(for: poll)
    }
}
