import MailComposer from "nodemailer/lib/mail-composer";
import type { LeakEmailContent } from "../domain/leak-email.js";

/**
 * Builds the MIME message once; the same bytes go to SES (raw content) and to the local
 * outbox, so a `.eml` in the outbox is exactly what SES would have sent.
 */
export async function composeMimeMessage(input: {
  from: string;
  to: string;
  content: LeakEmailContent;
  /** Stable per (incident, opening), so a retried send carries the same Message-ID. */
  messageId: string;
  date: Date;
}): Promise<Buffer> {
  const composer = new MailComposer({
    from: input.from,
    to: input.to,
    subject: input.content.subject,
    text: input.content.text,
    html: input.content.html,
    messageId: input.messageId,
    date: input.date,
    headers: { "Auto-Submitted": "auto-generated" },
    // Readable .eml files and stable bytes: quoted-printable rather than whatever nodemailer guesses.
    textEncoding: "quoted-printable",
  });
  return composer.compile().build();
}
