import Foundation

/// An unfinished operation as ``JournalStore/unfinished()`` found it.
public struct JournalEntry<Record: Codable & Sendable>: Sendable {
    /// What the operation works on (the key given to ``JournalStore/begin(key:record:)``).
    public var key: String
    /// The operation's identifier (a UUID), kept when it is resumed.
    public var id: String
    /// The process that last worked on it.
    public var pid: Int32
    /// Whether that process still holds the operation's lock; if not, the operation needs `kvmmigrate recover`.
    public var processRunning: Bool
    /// When the operation began.
    public var startedAt: Date
    /// When its record was last written.
    public var updatedAt: Date
    /// The operation's record, as last written.
    public var record: Record
    /// The record file.
    public var path: URL

    init(file: JournalFile<Record>, processRunning: Bool, path: URL) {
        self.key = file.key
        self.id = file.id
        self.pid = file.pid
        self.processRunning = processRunning
        self.startedAt = file.startedAt
        self.updatedAt = file.updatedAt
        self.record = file.record
        self.path = path
    }
}

/// What a record file holds: the caller's record and what the store keeps about it.
struct JournalFile<Record: Codable & Sendable>: Codable, Sendable {
    static var currentFormatVersion: Int { 1 }

    var formatVersion = Self.currentFormatVersion
    var key: String
    var id: String
    var pid: Int32
    var startedAt: Date
    var updatedAt: Date
    /// When the operation was last taken over by `kvmmigrate recover`.
    var resumedAt: Date?
    /// When the operation finished (only in `done/`).
    var finishedAt: Date?
    /// How many times the record was written, counting from 0.
    var sequence = 0
    var record: Record

    init(key: String, id: String, pid: Int32, startedAt: Date, updatedAt: Date, record: Record) {
        self.key = key
        self.id = id
        self.pid = pid
        self.startedAt = startedAt
        self.updatedAt = updatedAt
        self.record = record
    }

    enum CodingKeys: String, CodingKey {
        case formatVersion = "format_version"
        case key
        case id
        case pid
        case startedAt = "started_at"
        case updatedAt = "updated_at"
        case resumedAt = "resumed_at"
        case finishedAt = "finished_at"
        case sequence
        case record
    }
}
