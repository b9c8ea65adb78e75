import JSONCore

/// The audit log as JSON lines (`cxrun audit export`): one object per run, then its calls.
extension RunRecord {
    /// The run as one JSON line.
    public var exportLine: String {
        let line: JSONValue = [
            "type": "run", "id": .string(id), "script": .string(script), "script_sha256": .string(scriptSHA256),
            "tenant": .string(tenant), "operator": .string(operatorName), "args": args, "dry_run": .bool(dryRun),
            "started_at": .double(startedAt), "finished_at": finishedAt.map(JSONValue.double) ?? .null, "status": .string(status.rawValue),
            "error": error.map(JSONValue.string) ?? .null, "summary": summary ?? .null, "plan_id": planID.map(JSONValue.string) ?? .null,
            "host": owner.map { .string($0.host) } ?? .null, "pid": owner.map { .int(Int64($0.pid)) } ?? .null,
        ]
        return line.jsonString()
    }
}

extension CallRecord {
    /// The call as one JSON line.
    public var exportLine: String {
        let line: JSONValue = [
            "type": "call", "run_id": .string(runID), "seq": .int(Int64(seq)), "binding": .string(binding),
            "target": target.map(JSONValue.string) ?? .null, "args": args, "result": result ?? .null, "status": .string(status.rawValue),
            "error_code": errorCode.map(JSONValue.string) ?? .null, "http_status": httpStatus.map { .int(Int64($0)) } ?? .null,
            "attempts": .int(Int64(attempts)), "started_at": .double(startedAt), "latency_ms": latencyMs.map(JSONValue.double) ?? .null,
        ]
        return line.jsonString()
    }

    /// The call's result as compact JSON ("" when it has none), for `cxrun audit show`.
    public var resultText: String { result?.jsonString() ?? "" }
}

extension RunbookResult {
    /// The run's summary as pretty JSON (`cxrun run --json`), with the planned changes of a dry run
    /// and the error of a failed one.
    public func jsonReport(dryRun: Bool) -> String {
        var fields = summary.json.objectValue ?? [:]
        if dryRun { fields["planned"] = .array(plannedChanges.map { .string($0.text) }) }
        if let message = outcome.message { fields["error"] = .string(message) }
        if !lostWork.isEmpty { fields["lost_work"] = .array(lostWork.map(JSONValue.string)) }
        return JSONValue.object(fields).jsonString(pretty: true)
    }
}
