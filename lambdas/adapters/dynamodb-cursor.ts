import { z } from "zod";

export class InvalidCursorError extends Error {
  constructor(options?: { cause?: unknown }) {
    super("invalid pagination cursor", options);
    this.name = "InvalidCursorError";
  }
}

const CursorSchema = z.record(z.string().max(256), z.union([z.string().max(1024), z.number()]));

/** Pagination cursors are opaque base64url JSON of a DynamoDB key; validated on the way back in. */
export function encodeCursor(key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(key)).toString("base64url");
}

export function decodeCursor(cursor: string): Record<string, string | number> {
  try {
    return CursorSchema.parse(JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")));
  } catch (error) {
    throw new InvalidCursorError({ cause: error });
  }
}
