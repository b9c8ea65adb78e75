/// Why a store operation did not happen.
enum StoreError: Error, Sendable, Equatable {
    case notFound(String)
    case conflict(current: Int64)
    case invalid([FieldError])
    case database(String)
}
