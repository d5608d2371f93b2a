import { useState } from "preact/hooks";
import { setToken } from "./api";

/** Paste a token (a JWT from `bun run token` or your identity provider); it is kept in this tab only. */
export function SignIn({ expired, onSignedIn }: { expired: boolean; onSignedIn: () => void }) {
  const [value, setValue] = useState("");
  const [error, setError] = useState("");
  const submit = (e: Event) => {
    e.preventDefault();
    const t = value.trim().replace(/^Bearer\s+/i, "");
    if (!/^[\w-]+\.[\w-]+\.[\w-]*$/.test(t)) return setError("That does not look like a token (three dot-separated parts).");
    setToken(t);
    onSignedIn();
  };
  return (
    <main class="signin">
      <h1>API keys console</h1>
      <form onSubmit={submit} class="card">
        {expired && (
          <p role="alert" class="warn">
            Your token was refused (expired or not valid). Paste a new one.
          </p>
        )}
        <label for="token">Access token</label>
        <textarea id="token" name="token" rows={4} autoComplete="off" spellcheck={false} value={value} onInput={(e) => setValue(e.currentTarget.value)} aria-describedby="token-help token-error" />
        <p id="token-help" class="hint">
          The token stays in this browser tab (session storage) and is sent only as an Authorization header to this server.
        </p>
        <p id="token-error" class="error" role="alert">
          {error}
        </p>
        <button type="submit" class="primary">
          Sign in
        </button>
      </form>
    </main>
  );
}
