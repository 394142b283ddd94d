import Foundation

extension SSHOptions {
    /// Ends the connection-sharing masters in ``controlDirectory`` (`ssh -O exit`) and removes the directory.
    ///
    /// Call it when the process is done with the nodes: otherwise each master lingers for `ControlPersist`
    /// seconds after kvmmigrate has exited. Blocks briefly (one local `ssh -O exit` per master).
    public func closeSharedConnections() {
        guard let directory = self.controlDirectory else { return }
        let sockets = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for socket in sockets {
            let process = Process()
            process.executableURL = URL(filePath: "/usr/bin/ssh")
            // The destination is not used: ssh talks to the master through the control socket.
            process.arguments = ["-o", "ControlPath=\(directory)/\(socket)", "-O", "exit", "kvmmigrate-master"]
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            if (try? process.run()) != nil { process.waitUntilExit() }
        }
        try? FileManager.default.removeItem(atPath: directory)
    }
}
