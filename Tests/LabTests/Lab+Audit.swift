import Foundation
import Testing

/// Runs kvmmigrate with a system log a test can read: the lab machine has no syslog daemon, so kvmmigrate runs in a
/// mount namespace of its own whose `/dev/log` leads to a datagram socket this process reads.
extension Lab {
    /// Receives syslog(3) datagrams on `$1` and appends each, one line, to `$2`.
    static let auditReceiver = """
        import os, socket, sys
        path, out = sys.argv[1], sys.argv[2]
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.bind(path)
        os.chmod(path, 0o666)
        with open(out, "ab", buffering=0) as f:
            while True:
                f.write(s.recv(65536).rstrip(b"\\0").rstrip(b"\\n") + b"\\n")
        """

    /// `/dev` replaced (in the namespace only) by a tmpfs holding everything the real one holds, bound back,
    /// and a `log` symlink to the receiver's socket; then the command.
    static let auditNamespace = """
        set -e
        old="$1"; sock="$2"; shift 2
        mount --rbind /dev "$old"
        mount -t tmpfs -o mode=755 tmpfs /dev
        for e in "$old"/* "$old"/.[!.]*; do
          [ -e "$e" ] || [ -L "$e" ] || continue
          n=${e##*/}
          if [ -L "$e" ]; then cp -P "$e" "/dev/$n"
          elif [ -d "$e" ]; then mkdir "/dev/$n"; mount --rbind "$e" "/dev/$n"
          else : > "/dev/$n"; mount --bind "$e" "/dev/$n"; fi
        done
        ln -s "$sock" /dev/log
        exec "$@"
        """

    /// Runs `kvmmigrate arguments` with a system log this test reads; returns the run and the records' text
    /// (what follows `kvmmigrate[pid]: `), in order.
    func audited(_ arguments: [String]) throws -> (run: CommandRun, records: [String]) {
        let directory = FileManager.default.temporaryDirectory.appending(path: "kvmm-audit-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(at: directory) }
        let socket = directory.appending(path: "log").path
        let output = directory.appending(path: "records").path
        let oldDevices = directory.appending(path: "dev").path
        try FileManager.default.createDirectory(atPath: oldDevices, withIntermediateDirectories: false)
        let receiver = Process()
        receiver.executableURL = URL(filePath: "/usr/bin/python3")
        receiver.arguments = ["-c", Self.auditReceiver, socket, output]
        try receiver.run()
        defer {
            // SIGKILL: the test process may run with SIGTERM ignored, which its children inherit.
            kill(receiver.processIdentifier, SIGKILL)
            receiver.waitUntilExit()
        }
        for _ in 0..<100 where !FileManager.default.fileExists(atPath: socket) {
            Thread.sleep(forTimeInterval: 0.05)
        }
        let result = try run(
            URL(filePath: "/usr/bin/timeout"),
            ["540", "unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", Self.auditNamespace, "sh"]
                + [oldDevices, socket, try self.binary.path] + arguments
        )
        Thread.sleep(forTimeInterval: 0.3)
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        let records = text.split(separator: "\n").compactMap { line -> String? in
            guard line.contains("kvmmigrate["), let mark = line.range(of: "]: ") else { return nil }
            return String(line[mark.upperBound...])
        }
        return (result, records)
    }
}

/// The records of the one operation a run started, checked to share its id.
func auditedOperation(_ records: [String]) throws -> [String] {
    let start = try #require(records.first { $0.hasPrefix("start ") }, "no start record in \(records)")
    let id = try #require(start.split(separator: " ").dropFirst().first, "\(start)")
    #expect(id.hasPrefix("operation=") && id.count == "operation=".count + 12, "\(start)")
    let mine = records.filter { $0.split(separator: " ").dropFirst().first == id }
    #expect(mine == records, "records of another operation: \(records)")
    return mine
}
