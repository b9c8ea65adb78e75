import Foundation

/// Waits until `condition` holds, checking every `poll`; false if it still does not after
/// `limit / poll` checks. A bound against hanging counted in checks, not by the clock: on a
/// loaded machine each check and sleep takes longer, and the wait stretches with them.
public func eventually(
    within limit: Duration = .seconds(60), poll: Duration = .milliseconds(20), _ condition: () async throws -> Bool
) async throws -> Bool {
    let checks = max(1, Int((limit / poll).rounded(.up)))
    for check in 1...checks {
        if try await condition() { return true }
        if check < checks { try await Task.sleep(for: poll) }
    }
    return false
}
