import ArgumentParser
import Foundation
import Secrets
import Workflow

extension Switchboard {
    struct SecretsCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "secrets",
            abstract: "Keep the credentials workflows use sealed in the workspace (secrets.sealed.json).",
            discussion: """
                Workflows read them as ${{ secrets.NAME }}. The file holds each value sealed with libsodium \
                (XChaCha20-Poly1305); names stay readable, so `list` and `validate` need no key, and the file \
                is safe to commit. The key comes from the environment, first found wins:
                  SWITCHBOARD_KEY        32 bytes as base64 (or 64 hex digits)
                  SWITCHBOARD_KEY_FILE   a file of mode 0600 holding such a key (`secrets keygen FILE`)
                  SWITCHBOARD_PASSPHRASE a passphrase, stretched with Argon2id (asked for on a terminal)
                The first `set` fixes which kind the store uses. `plan` and `test` never need the key: \
                they see placeholders. Values never appear in output: every secret is masked as *** in \
                logs, the journal, plan output, escalations and error messages.

                Examples:
                  switchboard secrets keygen ~/.config/switchboard/key
                  export SWITCHBOARD_KEY_FILE=~/.config/switchboard/key
                  printf '%s' "$TOKEN" | switchboard secrets set PARTNER_OPS_TOKEN
                  switchboard secrets list
                  switchboard secrets rm PARTNER_OPS_TOKEN
                """,
            subcommands: [SetSecret.self, List.self, Remove.self, Keygen.self])
    }
}

struct SecretsOptions: ParsableArguments {
    @Option(name: .customLong("workspace"), help: "The workspace directory.", completion: .directory)
    var workspace = "."

    var path: String { SecretStore.path(workspace: workspace) }

    func open() throws -> SecretStore? {
        try Failure.secrets { () throws(SecretError) in try SecretStore.open(path) }
    }

    /// Holds an exclusive `flock` on `WORKSPACE/.switchboard/secrets.lock` until the returned value is
    /// released, so two `set`s or `rm`s at once cannot both read the store and lose one's change.
    func lock() throws -> Int32 {
        let directory = (workspace as NSString).appendingPathComponent(".switchboard")
        try? FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let descriptor = Foundation.open(
            (directory as NSString).appendingPathComponent("secrets.lock"), O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0, flock(descriptor, LOCK_EX) == 0 else {
            throw Failure.message(
                "cannot lock \(directory)/secrets.lock: \(String(cString: strerror(errno)))", hint: nil)
        }
        return descriptor
    }

    /// The key for `store` (nil: a store about to be made), asking on a terminal for a passphrase if need be.
    func key(for store: SecretStore?) throws -> (SecretKey, SecretStore.KeySpec) {
        try Failure.secrets { () throws(SecretError) in
            try SecretKey.resolve(for: store?.keySpec, prompt: Terminal.readSecret)
        }
    }
}

extension Failure {
    /// Runs `body`, turning a secret store's error into a `Failure` the command prints.
    static func secrets<T>(_ body: () throws(SecretError) -> T) throws -> T {
        do {
            return try body()
        } catch {
            throw Failure.message(error.message, hint: error.hint)
        }
    }
}

extension Switchboard.SecretsCommand {
    struct SetSecret: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set",
            abstract: "Store a secret; the value is read from standard input, never from the command line.",
            discussion: """
                One trailing newline is dropped. On a terminal the value is asked for without echo. A value \
                shorter than 4 characters is refused: it could not be masked reliably in output.
                """)

        @Argument(help: "The name, as workflows spell it: letters, digits and _, not starting with a digit.")
        var name: String
        @OptionGroup var options: SecretsOptions

        func validate() throws {
            guard SecretStore.isValidName(name) else {
                throw ValidationError("'\(name)' is not a secret name: use letters, digits and _ (OPERATOR_WEBHOOK)")
            }
        }

        func run() throws {
            var value: String
            if isatty(STDIN_FILENO) == 1 {
                guard let typed = Terminal.readSecret(prompt: "value for \(name): ") else {
                    throw Failure.message("no value given", hint: nil)
                }
                value = typed
            } else {
                value = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
                if value.hasSuffix("\r\n") {
                    value.removeLast(2)
                } else if value.hasSuffix("\n") {
                    value.removeLast()
                }
            }
            guard value.count >= Redactor.minimumLength else {
                throw Failure.message(
                    "the value of \(name) is shorter than \(Redactor.minimumLength) characters; it could not be masked in output",
                    hint: nil)
            }
            let held = try options.lock()
            defer { close(held) }
            let store = try options.open()
            let (key, spec) = try options.key(for: store)
            var updated = try Failure.secrets { () throws(SecretError) -> SecretStore in
                if let store { return store }
                return try SecretStore.create(options.path, spec: spec, key: key)
            }
            try Failure.secrets { () throws(SecretError) in
                try updated.set(name, value: value, key: key)
                try updated.save()
            }
            Console.error("stored \(name) in \(options.path)\n")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The names stored (never the values; no key needed).")
        @OptionGroup var options: SecretsOptions
        @Flag(help: "Print JSON for programs.") var json = false

        func run() throws {
            let names = try options.open()?.names ?? []
            if json {
                try JSONOutput.print(["secrets": names])
            } else if names.isEmpty {
                Console.error("no secrets in \(options.path)\n")
            } else {
                for name in names { print(name) }
            }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove a secret.")
        @Argument(help: "The name.") var name: String
        @OptionGroup var options: SecretsOptions

        func run() throws {
            let held = try options.lock()
            defer { close(held) }
            guard var store = try options.open() else {
                throw Failure.message("no secret store at \(options.path)", hint: nil)
            }
            guard store.remove(name) else {
                throw Failure.message(
                    "no secret \(name) in \(options.path)", hint: "stored: \(store.names.joined(separator: ", "))")
            }
            try Failure.secrets { () throws(SecretError) in try store.save() }
            Console.error("removed \(name) from \(options.path)\n")
        }
    }

    struct Keygen: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a new random key to FILE (mode 0600), for SWITCHBOARD_KEY_FILE.",
            discussion: "An existing file is never overwritten.")
        @Argument(help: "Where to write the key.", completion: .file()) var file: String

        func run() throws {
            guard !FileManager.default.fileExists(atPath: file) else {
                throw Failure.message("\(file) exists; it is never overwritten", hint: "pick another path")
            }
            let directory = (file as NSString).deletingLastPathComponent
            if !directory.isEmpty {
                try? FileManager.default.createDirectory(
                    atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            }
            try Failure.secrets { () throws(SecretError) in
                try AtomicFile.write(Data((SecretKey.generate() + "\n").utf8), to: file, mode: 0o600)
            }
            Console.error("wrote a new key to \(file)\nnext: export SWITCHBOARD_KEY_FILE=\(file)\n")
        }
    }
}

extension Terminal {
    /// A line typed on the controlling terminal with echo off; nil when there is no terminal.
    static func readSecret() -> String? { readSecret(prompt: "passphrase: ") }

    static func readSecret(prompt: String) -> String? {
        let descriptor = open("/dev/tty", O_RDWR | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        _ = prompt.withCString { write(descriptor, $0, strlen($0)) }
        var saved = termios()
        tcgetattr(descriptor, &saved)
        var silent = saved
        silent.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(descriptor, TCSAFLUSH, &silent)
        defer {
            tcsetattr(descriptor, TCSAFLUSH, &saved)
            _ = write(descriptor, "\n", 1)
        }
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while read(descriptor, &byte, 1) == 1, byte != 0x0A { bytes.append(byte) }
        let line = String(decoding: bytes, as: UTF8.self)
        return line.isEmpty ? nil : line
    }
}
