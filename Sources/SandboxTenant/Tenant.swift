import Foundation
import JSONCore
import Synchronization

/// The running tenant's shared state, used by every handler.
final class Tenant: Sendable {
    let configuration: SandboxConfiguration
    let store: TenantStore
    let faults: FaultInjector
    let limiter: RateLimiter
    let requests = RequestLog()
    let traffic: TrafficModel
    let clients: [String: SimClient]
    let clock: SimClock
    /// Status changes in flight (against `configuration.statusChangeLimit`).
    let statusChanges = Mutex(0)

    init(_ configuration: SandboxConfiguration) throws {
        self.configuration = configuration
        clock = SimClock(start: configuration.clock)
        store = try TenantStore(path: configuration.databasePath, seed: configuration.seed, queueCount: configuration.queueCount,
                                 agentCount: configuration.agentCount, clock: clock)
        faults = FaultInjector(faults: configuration.faults, seed: configuration.seed)
        limiter = RateLimiter(rate: configuration.rateLimit)
        traffic = TrafficModel(seed: configuration.seed)
        clients = Dictionary(configuration.clients.map { ($0.id, $0) }, uniquingKeysWith: { _, last in last })
    }

    /// Every endpoint, public API first. The OpenAPI document must list exactly these.
    var routes: [Route] {
        TokenEndpoint(tenant: self).routes + QueueEndpoints(tenant: self).routes + DirectoryEndpoints(tenant: self).routes
            + AnalyticsEndpoint(tenant: self).routes + ControlEndpoints(tenant: self).routes
    }
}

/// Page-number paging shared by the list endpoints: `?page=1&pageSize=25`.
enum Paging {
    static let defaultSize = 25
    static let maxSize = 100

    /// Reads `page` and `pageSize` (400 when malformed).
    static func window(_ request: APIRequest) throws(APIFailure) -> (page: Int, size: Int) {
        (try request.positiveQuery("page", default: 1, max: 1_000_000), try request.positiveQuery("pageSize", default: defaultSize, max: maxSize))
    }

    /// The list response, `{data, page, pageSize, totalCount, totalPages}`, as JSON text.
    static func body(_ items: [JSONValue], page: Int, size: Int, total: Int) -> String {
        body(encoded: items.map { $0.jsonString() }, page: page, size: size, total: total)
    }

    /// The list response around items already encoded (stored documents are spliced in as they
    /// are stored, not parsed and written again). Keys in the order the JSON writer sorts them.
    static func body(encoded items: [String], page: Int, size: Int, total: Int) -> String {
        let pages = (total + size - 1) / size
        return "{\"data\":[" + items.joined(separator: ",") + "],\"page\":\(page),\"pageSize\":\(size),\"totalCount\":\(total),\"totalPages\":\(pages)}"
    }
}
