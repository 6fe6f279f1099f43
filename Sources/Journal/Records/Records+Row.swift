internal import Foundation
internal import GRDB

// Row decoding kept inside the module: the public records carry no GRDB types.

extension RunRecord {
    init(row: Row) {
        self.init(
            id: row["id"], triggerKind: row["trigger_kind"], triggerRef: row["trigger_ref"], workflow: row["workflow"],
            handler: row["handler"], status: Status(rawValue: row["status"]) ?? .failed, startedAt: row["started_at"],
            finishedAt: row["finished_at"], definitionHash: row["definition_hash"])
    }
}

extension StepRecord {
    init(row: Row) {
        self.init(
            id: row["id"], runID: row["run_id"], stepID: row["step_id"], position: row["position"],
            attempt: row["attempt"], status: Status(rawValue: row["status"]) ?? .failed, outputJSON: row["output_json"],
            errorCode: row["error_code"], errorMessage: row["error_message"], startedAt: row["started_at"],
            finishedAt: row["finished_at"])
    }
}

extension IntentRecord {
    init(row: Row) {
        self.init(
            id: row["id"], key: row["key"], runID: row["run_id"], stepID: row["step_id"], target: row["target"],
            payloadDigest: row["payload_digest"], status: Status(rawValue: row["status"]) ?? .unknown,
            attempts: row["attempts"], strikes: row["strikes"], maxStrikes: row["max_strikes"],
            lastErrorCode: row["last_error_code"], lastErrorMessage: row["last_error_message"],
            createdAt: row["created_at"], updatedAt: row["updated_at"])
    }
}

extension InboxMessage {
    init(row: Row) {
        self.init(
            id: row["id"], account: row["account"], conversation: row["conversation"], messageID: row["message_id"],
            cursor: row["cursor"], receivedAt: row["received_at"], payload: row["payload"],
            handlingRunID: row["handling_run_id"])
    }
}

extension Checkpoint {
    init(row: Row) {
        self.init(
            source: row["source"], cursor: row["cursor"], ackState: row["ack_state"],
            consecutiveFailures: row["consecutive_failures"], pausedAt: row["paused_at"],
            lastErrorCode: row["last_error_code"], lastErrorMessage: row["last_error_message"],
            updatedAt: row["updated_at"])
    }
}

extension SessionRecord {
    init(row: Row) {
        self.init(
            account: row["account"], session: row["session"], expiresAt: row["expires_at"],
            lastRenewedAt: row["last_renewed_at"])
    }
}

extension ScheduleRecord {
    init(row: Row) {
        self.init(jobKey: row["job_key"], nextDue: row["next_due"], lastFired: row["last_fired"])
    }
}

extension WaitRecord {
    init(row: Row) {
        self.init(
            id: row["id"], runID: row["run_id"], stepID: row["step_id"], matcher: row["matcher"],
            deadline: row["deadline"], resolvedAt: row["resolved_at"], resolution: row["resolution"])
    }
}

extension EscalationRecord {
    init(row: Row) {
        self.init(
            id: row["id"], subject: row["subject"], code: row["code"], message: row["message"],
            createdAt: row["created_at"], sentAt: row["sent_at"], resolvedAt: row["resolved_at"],
            resolvedBy: row["resolved_by"])
    }
}

extension LeaseRecord {
    init(row: Row) {
        self.init(
            name: row["name"], holder: row["holder"], acquiredAt: row["acquired_at"], expiresAt: row["expires_at"])
    }
}
