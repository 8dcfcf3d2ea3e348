import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SESv2Client, SendEmailCommand } from "@aws-sdk/client-sesv2";
import {
  deadlineRequestHandler,
  SDK_DEADLINES,
  type SdkDeadline,
  withCallDeadline,
} from "./dynamodb-client.js";

export interface OutgoingEmail {
  /** The complete MIME message (headers + body), built once by composeMimeMessage. */
  raw: Uint8Array;
  incidentId: string;
}

/** Sends a raw MIME message; SES in AWS, the outbox folder locally. */
export interface EmailSender {
  send(email: OutgoingEmail): Promise<void>;
}

export class EmailSendError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "EmailSendError";
  }
}

/** SESv2 client with a real deadline per call (SDK_DEADLINES.background) and the standard retries. */
export function createSesClient(options: { endpoint?: string; deadline?: SdkDeadline } = {}): SESv2Client {
  const deadline = options.deadline ?? SDK_DEADLINES.background;
  return withCallDeadline(
    new SESv2Client({
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      maxAttempts: deadline.maxAttempts,
      retryMode: "standard",
      requestHandler: deadlineRequestHandler(deadline),
    }),
    deadline,
  );
}

export function createSesEmailSender(
  client: SESv2Client,
  options: { configurationSet?: string } = {},
): EmailSender {
  return {
    async send(email) {
      try {
        await client.send(
          new SendEmailCommand({
            Content: { Raw: { Data: email.raw } },
            ...(options.configurationSet ? { ConfigurationSetName: options.configurationSet } : {}),
          }),
        );
      } catch (error) {
        throw new EmailSendError(`SES refused the email for incident ${email.incidentId}`, { cause: error });
      }
    },
  };
}

/** Local mode: `<outbox>/emails/<timestamp>-<incident>.eml`, byte for byte what SES would get. */
export function createOutboxEmailSender(outbox: string, clock: () => Date = () => new Date()): EmailSender {
  const dir = join(outbox, "emails");
  return {
    async send(email) {
      mkdirSync(dir, { recursive: true });
      const stamp = clock().toISOString().replace(/[:.]/g, "-");
      writeFileSync(join(dir, `${stamp}-${email.incidentId}.eml`), email.raw);
    },
  };
}

/** Kept for symmetry with the alert outbox: appends one line to a file, creating its folder. */
export function appendLine(path: string, line: string): void {
  mkdirSync(join(path, ".."), { recursive: true });
  appendFileSync(path, `${line}\n`);
}
