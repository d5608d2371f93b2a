import { describe, expect, test } from "bun:test";
import { garbageGuard } from "./garbage";

const MB = 1024 * 1024;

/** A guard reading RSS from a list, and what it answered for each reading. */
function run(slackMb: number, readings: number[]): boolean[] {
  let i = 0;
  const guard = garbageGuard(slackMb * MB, () => readings[i++]! * MB);
  return readings.map(() => guard.check());
}

describe("the export's garbage guard", () => {
  test("asks for a collection only once RSS stands more than the slack above its lowest", () => {
    expect(run(16, [100, 110, 116, 117])).toEqual([false, false, false, true]);
  });

  test("measures the next growth from where it asked, and follows RSS down as the collection frees", () => {
    // Asked at 120; 130 is within 16 of 120; the drop to 104 becomes the new low, so 121 is over again.
    expect(run(16, [100, 120, 130, 104, 120, 121])).toEqual([false, true, false, false, false, true]);
  });

  test("a process that only shrinks or holds still is never asked to collect", () => {
    expect(run(16, [200, 190, 190, 180, 195])).toEqual([false, false, false, false, false]);
  });
});
