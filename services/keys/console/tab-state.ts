import { useState } from "preact/hooks";
import { ApiError } from "./api";
import { errorText } from "./format";

export type TabState = "loading" | "ok" | "missing" | "error";

/**
 * A tab fed by one endpoint: its state, its error text, and `run(step)`,
 * which loads with `step` and maps a 404 (a server without that endpoint) to
 * "missing", any other failure to "error" with its text.
 */
export function useTabState() {
  const [state, setState] = useState<TabState>("loading");
  const [error, setError] = useState("");
  const run = async (step: () => Promise<void>): Promise<void> => {
    try {
      await step();
      setState("ok");
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return setState("missing");
      setError(errorText(e));
      setState("error");
    }
  };
  return { state, error, setError, run };
}
