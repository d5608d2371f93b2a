import { useState } from "preact/hooks";
import type { IssuedKey } from "./types";

/** The one time the full key is on screen: copy it now, it cannot be shown again (only its hash is stored). */
export function Reveal({ issued, onDone }: { issued: IssuedKey; onDone: () => void }) {
  const [copied, setCopied] = useState<"" | "yes" | "no">("");
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(issued.apiKey);
      setCopied("yes");
    } catch {
      // No clipboard permission (or an insecure origin): the field is selected for a manual copy.
      (document.getElementById("revealed-key") as HTMLInputElement | null)?.select();
      setCopied("no");
    }
  };
  return (
    <section class="card reveal" aria-labelledby="reveal-title">
      <h2 id="reveal-title">Your new {issued.mode} key</h2>
      <p class="warn">
        <strong>Shown once.</strong> Copy it now and store it somewhere safe: only a hash is kept, so it can never be shown again.
      </p>
      <label for="revealed-key">API key</label>
      <div class="row">
        <input id="revealed-key" class="mono" readOnly value={issued.apiKey} onFocus={(e) => e.currentTarget.select()} />
        <button type="button" class="primary" onClick={copy}>
          Copy
        </button>
      </div>
      <p role="status" class="hint">
        {copied === "yes" ? "Copied to the clipboard." : copied === "no" ? "Copying was not allowed: the key is selected, press Ctrl+C." : ""}
      </p>
      <button type="button" onClick={onDone}>
        I have stored it
      </button>
    </section>
  );
}
