extension String {
    /// The non-empty pieces between `separator` bytes (ASCII), split over the UTF-8 bytes: split
    /// by Characters, a request's path (route by route) and its token's scopes were a sixth and a
    /// tenth of the tenant's CPU.
    func pieces(separatedBy separator: UInt8) -> [String] {
        utf8.split(separator: separator).map { String(Substring($0)) }
    }
}
