import Foundation
import Testing
import Workflow

/// Hostile and broken files: each gives a clear finding and a failing report, never a crash or a hang.
@Suite struct BadInputTests {
    func codes(_ files: [String: Data]) throws -> [String] {
        let workspace = try TestWorkspace([:])
        for (path, data) in files { try workspace.write(path, data) }
        let report = workspace.validate()
        #expect(report.count(.error) > 0)
        return report.diagnostics.map { "\($0.location.line):\($0.location.column) \($0.code.rawValue)" }
    }

    @Test func binaryGarbage() throws {
        var generator = SystemRandomNumberGenerator()
        var bytes = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) }
        bytes[100] = 0
        let found = try codes(["workflows/a.yaml": Data(bytes)])
        #expect(found.count == 1)
        #expect(found[0].hasSuffix("binary-file") || found[0].hasSuffix("invalid-utf8"))
    }

    @Test func aFiftyMegabyteFileIsRefusedUnread() throws {
        let big = Data(repeating: UInt8(ascii: "#"), count: 50 << 20)
        #expect(try codes(["workflows/big.yaml": big]) == ["0:0 file-too-large"])
    }

    @Test func yamlNestedTenThousandLevelsDeep() throws {
        let flow = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(
            try codes(["workflows/a.yaml": Data("version: 1\nname: \(flow)\n".utf8)]).map {
                $0.split(separator: " ")[1]
            } == ["yaml-too-deep"])
        // Block style: compact nested sequences, 10,000 levels on one line.
        let block = "version: 1\nname:\n" + String(repeating: "- ", count: 10_000) + "x\n"
        #expect(
            try codes(["workflows/b.yaml": Data(block.utf8)]).map { $0.split(separator: " ")[1] } == ["yaml-too-deep"])
    }

    @Test func invalidUTF8PointsAtTheByte() throws {
        var bytes = Array("version: 1\nname: caf".utf8)
        bytes += [0xC3, 0x28]
        #expect(try codes(["workflows/a.yaml": Data(bytes)]) == ["2:10 invalid-utf8"])
    }

    @Test func tabsForIndentation() throws {
        #expect(
            try codes(["workflows/a.yaml": Data("version: 1\nhandlers:\n\th: []\n".utf8)]) == [
                "3:1 yaml-tab-indentation"
            ])
    }

    @Test func anAliasBombStopsAtTheNodeBudget() throws {
        var yaml = "version: 1\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...8 {
            yaml +=
                "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ")
                + "]\n"
        }
        let found = try codes(["workflows/a.yaml": Data(yaml.utf8)])
        #expect(found.map { $0.split(separator: " ")[1] } == ["yaml-too-large"])
    }

    @Test func messagingWithoutSessions() throws {
        let found = try codes([
            "workflows/a.yaml": Data("version: 1\n".utf8),
            "MESSAGING.md": Data("# MESSAGING.md\n## Default Behavior\n1. Summarize\n".utf8),
        ])
        #expect(found == ["1:1 missing-sessions-section"])
    }

    @Test func anEmptyDirectory() throws {
        #expect(try codes([:]) == ["0:0 no-workflows"])
    }

    @Test func anEmptyWorkflowFile() throws {
        #expect(try codes(["workflows/a.yaml": Data()]) == ["0:0 missing-key"])
    }

    @Test func aSecondDocumentInOneFile() throws {
        #expect(
            try codes(["workflows/a.yaml": Data("version: 1\n---\nversion: 1\n".utf8)]).map {
                $0.split(separator: " ")[1]
            } == ["multiple-documents"])
    }

    @Test func aListWhereAMappingBelongs() throws {
        #expect(try codes(["workflows/a.yaml": Data("- version: 1\n".utf8)]) == ["1:1 type-mismatch"])
    }
}
