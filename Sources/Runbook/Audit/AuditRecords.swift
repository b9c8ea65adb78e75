import Foundation
import JSONCore

/// A run's status in the audit log.
public enum RunStatus: String, Sendable, Equatable, Codable {
    case running, succeeded, failed, aborted
    /// Its process ended without finishing it (killed, or a second stop signal).
    case abandoned
}

/// A call's status: `pending` is committed before a write's request is sent.
public enum CallStatus: String, Sendable, Equatable, Codable {
    case ok, error, planned, pending
}

/// A snapshot of a queue document: before a write (`pre`) or as written (`post`).
public enum SnapshotKind: String, Sendable, Equatable, Codable {
    case pre, post
}

/// A row of `runs`.
public struct RunRecord: Sendable, Equatable {
    public var id: String
    public var script: String
    public var scriptSHA256: String
    public var tenant: String
    public var operatorName: String
    public var args: JSONValue
    public var dryRun: Bool
    public var startedAt: Double
    public var finishedAt: Double?
    public var status: RunStatus
    public var error: String?
    public var summary: JSONValue?
    /// The plan this run applied (`cxrun apply`).
    public var planID: String? = nil
    /// The process that ran it (nil for rows written before this was recorded).
    public var owner: RunOwner? = .current

    public init(id: String, script: String, scriptSHA256: String, tenant: String, operatorName: String, args: JSONValue, dryRun: Bool,
                startedAt: Double, finishedAt: Double? = nil, status: RunStatus, error: String? = nil, summary: JSONValue? = nil,
                planID: String? = nil, owner: RunOwner? = .current) {
        (self.id, self.script, self.scriptSHA256, self.tenant, self.operatorName, self.args) = (id, script, scriptSHA256, tenant, operatorName, args)
        (self.dryRun, self.startedAt, self.finishedAt, self.status, self.error, self.summary) = (dryRun, startedAt, finishedAt, status, error, summary)
        (self.planID, self.owner) = (planID, owner)
    }
}

/// A row of `calls`: one binding call.
public struct CallRecord: Sendable, Equatable {
    public var runID: String
    public var seq: Int
    public var binding: String
    public var target: String?
    public var args: JSONValue
    public var result: JSONValue?
    public var status: CallStatus
    public var errorCode: String?
    public var httpStatus: Int?
    public var attempts: Int
    public var startedAt: Double
    public var latencyMs: Double?

    public init(runID: String, seq: Int, binding: String, target: String? = nil, args: JSONValue, result: JSONValue? = nil, status: CallStatus,
                errorCode: String? = nil, httpStatus: Int? = nil, attempts: Int, startedAt: Double, latencyMs: Double? = nil) {
        (self.runID, self.seq, self.binding, self.target, self.args, self.result) = (runID, seq, binding, target, args, result)
        (self.status, self.errorCode, self.httpStatus, self.attempts, self.startedAt, self.latencyMs) = (status, errorCode, httpStatus, attempts, startedAt, latencyMs)
    }
}

/// A row of `snapshots`: a queue document before (`pre`) or as written (`post`) by a deploy.
public struct SnapshotRecord: Sendable, Equatable {
    public var runID: String
    public var seq: Int
    public var queueID: String
    public var kind: SnapshotKind
    public var version: Int64?
    public var document: JSONValue

    public init(runID: String, seq: Int, queueID: String, kind: SnapshotKind, version: Int64?, document: JSONValue) {
        (self.runID, self.seq, self.queueID, self.kind, self.version, self.document) = (runID, seq, queueID, kind, version, document)
    }
}
