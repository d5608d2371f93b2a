import { quotaWindow } from "@riskinmind/contracts";

const DAY_MS = 86_400_000;

/** Every window a take may need at `now`: the UTC day, and the month period for each anchor day 1..31. */
export interface PeriodTable {
  dayStart: number;
  dayEnd: number;
  /** JSON arrays indexed by anchorDay − 1, as the take statement reads them. */
  monthStarts: string;
  monthEnds: string;
}

/**
 * The take statement resolves the key's policy itself (one statement per
 * take), so it cannot ask TypeScript for the period of the key's anchor day;
 * it gets all 31 instead. They come from the contract's quotaWindow, the one
 * definition of a period, and change only at 00:00 UTC: built once a day.
 */
export class Periods {
  private day = -1;
  private table: PeriodTable | undefined;

  at(now: number): PeriodTable {
    const day = Math.floor(now / DAY_MS);
    if (day !== this.day || this.table === undefined) {
      const starts: number[] = [];
      const ends: number[] = [];
      for (let anchor = 1; anchor <= 31; anchor++) {
        const w = quotaWindow("month", anchor, now);
        starts.push(w.start);
        ends.push(w.end);
      }
      const d = quotaWindow("day", 1, now);
      this.table = { dayStart: d.start, dayEnd: d.end, monthStarts: JSON.stringify(starts), monthEnds: JSON.stringify(ends) };
      this.day = day;
    }
    return this.table;
  }
}
