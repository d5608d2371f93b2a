import { z } from "zod";
import { field, httpFields, natsFields, parseConfig, runFields } from "@riskinmind/runtime";

/** The example's environment, parsed once at start (fails fast with one line). */
export const LoansEnv = z.object({
  ...natsFields,
  PORT: field.port(3002),
  HOST: z.string().default("0.0.0.0"),
  LOG_LEVEL: field.logLevel(),
  ...runFields,
  ...httpFields,
});
export type LoansEnv = z.infer<typeof LoansEnv>;

export function loadEnv(env: Record<string, string | undefined> = process.env): LoansEnv {
  return parseConfig(LoansEnv, env);
}
