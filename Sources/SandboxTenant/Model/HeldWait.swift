import ServiceLifecycle

/// Waits while `holding` is true, looking every 10 ms: how the hold faults keep a request in
/// flight (a sandbox holds a few at a time). Ends early when the task is cancelled or the server
/// is shutting down, so a held request never keeps a stopping tenant up.
func waitWhileHeld(_ holding: () -> Bool) async {
    while holding() && !Task.isCancelled && !Task.isShuttingDownGracefully {
        try? await Task.sleep(for: .milliseconds(10))
    }
}
