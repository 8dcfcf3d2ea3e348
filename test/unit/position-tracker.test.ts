import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { countByteSimd } from "../../lambdas/domain/byte-counter.js";
import {
  codePointsBetween,
  countByte,
  countByteScalar,
  LineTracker,
} from "../../lambdas/domain/position-tracker.js";

function naiveCount(bytes: Uint8Array, from: number, to: number, byte: number): number {
  let count = 0;
  for (let i = from; i < to; i++) if (bytes[i] === byte) count++;
  return count;
}

function naiveCodePoints(bytes: Uint8Array, from: number, to: number): number {
  let count = 0;
  for (let i = from; i < to; i++) if (((bytes[i] as number) & 0xc0) !== 0x80) count++;
  return count;
}

/** Random bytes seen through an unaligned view, with a range inside them. */
const slices = fc
  .tuple(fc.uint8Array({ minLength: 0, maxLength: 3000 }), fc.integer({ min: 0, max: 7 }), fc.nat(), fc.nat())
  .map(([bytes, shift, a, b]) => {
    const padded = new Uint8Array(bytes.length + shift);
    padded.set(bytes, shift);
    const view = Buffer.from(padded.buffer, shift, bytes.length);
    const from = bytes.length === 0 ? 0 : a % (bytes.length + 1);
    const to = from + (bytes.length === 0 ? 0 : b % (bytes.length - from + 1));
    return { view, from, to };
  });

describe("counting a byte", () => {
  it("matches a byte-by-byte count for any range and alignment", () => {
    fc.assert(
      fc.property(slices, fc.constantFrom(10, 0, 0x80, 0xff), ({ view, from, to }, byte) => {
        expect(countByte(view, from, to, byte)).toBe(naiveCount(view, from, to, byte));
      }),
      { numRuns: 500 },
    );
  });

  it("counts every byte of a long run of the same byte (lane overflow)", () => {
    const newlines = Buffer.alloc(100_003, 10);
    expect(countByte(newlines, 1, newlines.length, 10)).toBe(100_002);
  });
});

describe("counting code points", () => {
  it("matches a byte-by-byte count for any bytes, range and alignment", () => {
    fc.assert(
      fc.property(slices, ({ view, from, to }) => {
        expect(codePointsBetween(view, from, to)).toBe(naiveCodePoints(view, from, to));
      }),
      { numRuns: 500 },
    );
  });

  it("counts multi-byte characters once on a long line", () => {
    const line = Buffer.from("ä€😀x".repeat(100));
    expect(codePointsBetween(line, 0, line.length)).toBe(400);
  });
});

describe("line tracking across windows", () => {
  it("gives the line and column of an offset after many windows", () => {
    const text = Buffer.from(`${"ab\ncd€\n".repeat(50)}xyz€K`);
    const tracker = new LineTracker();
    const target = text.length - 1;
    for (let at = 0; at < target; at += 7) tracker.advanceTo(text, 0, at);

    const position = tracker.positionAt(text, 0, target);

    expect(position).toMatchObject({ line: 101, column: 5 });
  });
});

describe("counting newlines with WebAssembly SIMD", () => {
  it("is available on this Node (the scanner's speed depends on it)", () => {
    expect(countByteSimd(Buffer.from("a\nb\n"), 0, 4, 10)).toBe(2);
  });

  it("counts exactly what the scalar count does, for any range, alignment and byte", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 20_000 }),
        fc.nat(),
        fc.nat(),
        fc.constantFrom(10, 0, 255, 0x80),
        (bytes, a, b, byte) => {
          const buffer = Buffer.from(bytes);
          const from = buffer.length === 0 ? 0 : a % buffer.length;
          const to = from + (buffer.length === 0 ? 0 : b % (buffer.length - from + 1));
          expect(countByteSimd(buffer, from, to, byte)).toBe(countByteScalar(buffer, from, to, byte));
          expect(countByte(buffer, from, to, byte)).toBe(countByteScalar(buffer, from, to, byte));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("counts a range larger than its 4 MiB slice, across slice ends", () => {
    const buffer = Buffer.alloc(9 * 1024 * 1024 + 7, 0x61);
    for (let i = 0; i < buffer.length; i += 4093) buffer[i] = 10;
    expect(countByteSimd(buffer, 3, buffer.length, 10)).toBe(countByteScalar(buffer, 3, buffer.length, 10));
  });
});
