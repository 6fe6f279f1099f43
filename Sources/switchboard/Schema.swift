import ArgumentParser
import Workflow

extension Switchboard {
    struct Schema: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the JSON Schema (draft 2020-12) of the workflow format, for editors.",
            discussion: """
                Save it and point your editor at it, e.g. with the YAML language server:
                  switchboard schema > workflow.schema.json
                  # yaml-language-server: $schema=../workflow.schema.json   (first line of a workflow)
                The schema covers the file's shape; 'switchboard validate' also checks references, \
                expressions, cron fields and more.
                """
        )

        func run() {
            print(JSONText.encodePretty(WorkflowSchema.document), terminator: "")
        }
    }
}
