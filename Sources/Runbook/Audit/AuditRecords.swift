import Foundation
import JSONCore

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
    /// running, succeeded, failed, aborted
    public var status: String
    public var error: String?
    public var summary: JSONValue?
}

/// A row of `calls`: one binding call.
public struct CallRecord: Sendable, Equatable {
    public var runID: String
    public var seq: Int
    public var binding: String
    public var target: String?
    public var args: JSONValue
    public var result: JSONValue?
    /// ok, error, planned, pending
    public var status: String
    public var errorCode: String?
    public var httpStatus: Int?
    public var attempts: Int
    public var startedAt: Double
    public var latencyMs: Double?
}

/// A row of `snapshots`: a queue document before (`pre`) or as written (`post`) by a deploy.
public struct SnapshotRecord: Sendable, Equatable {
    public var runID: String
    public var seq: Int
    public var queueID: String
    /// pre or post
    public var kind: String
    public var version: Int64?
    public var document: JSONValue
}
