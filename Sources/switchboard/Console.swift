import Foundation
import Secrets

/// Everything switchboard prints goes through here, and so through the redactor: no secret value or client
/// credential this process knows reaches stdout or stderr, whichever message it is part of.
enum Console {
    static func out(_ text: String) {
        FileHandle.standardOutput.write(Data(Redactor.shared.redact(text).utf8))
    }

    static func error(_ text: String) {
        FileHandle.standardError.write(Data(Redactor.shared.redact(text).utf8))
    }
}

/// `print` in this module is the redacting one (`Swift.print` would write secrets as they are).
func print(_ items: Any..., separator: String = " ", terminator: String = "\n") {
    Console.out(items.map { "\($0)" }.joined(separator: separator) + terminator)
}
