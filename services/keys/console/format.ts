/** Dates and numbers as the console shows them: the viewer's locale and time zone, ISO in a tooltip. */
export const when = (iso: string | null | undefined, never = "never") => (iso ? new Date(iso).toLocaleString() : never);
export const num = (n: number) => n.toLocaleString();
export const ms = (n: number | null | undefined) => (n === null || n === undefined ? "–" : `${Math.round(n)} ms`);
export const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));
