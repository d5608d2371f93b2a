import { useEffect, useState } from "preact/hooks";
import { clearToken, getToken, onUnauthorized, takeFragmentToken } from "./api";
import { AuditTab } from "./audit";
import { KeyTab } from "./key";
import { SignIn } from "./signin";
import { Tabs } from "./tabs";
import type { Mode } from "./types";
import { UsageTab } from "./usage";
import { WebhooksTab } from "./webhooks";

const TABS = [
  { id: "key", label: "Key" },
  { id: "usage", label: "Usage" },
  { id: "audit", label: "Audit" },
  { id: "webhooks", label: "Webhooks" },
] as const;
type TabId = (typeof TABS)[number]["id"];

export function App() {
  const [signedIn, setSignedIn] = useState(() => getToken() !== null);
  const [expired, setExpired] = useState(false);
  const [mode, setMode] = useState<Mode>("live");
  const [tab, setTab] = useState<TabId>("key");
  // A new sign-in (another token, maybe another owner) starts every view afresh.
  const [session, setSession] = useState(0);

  useEffect(() => {
    const out = () => {
      clearToken();
      setExpired(true);
      setSignedIn(false);
    };
    // The dev link opened in a tab already on /console changes only the fragment: no reload, so take it here.
    const linked = () => {
      if (!takeFragmentToken()) return;
      setExpired(false);
      setSignedIn(true);
      setSession((n) => n + 1);
    };
    onUnauthorized.addEventListener("unauthorized", out);
    window.addEventListener("hashchange", linked);
    return () => {
      onUnauthorized.removeEventListener("unauthorized", out);
      window.removeEventListener("hashchange", linked);
    };
  }, []);

  if (!signedIn)
    return (
      <SignIn
        expired={expired}
        onSignedIn={() => {
          setExpired(false);
          setSignedIn(true);
          setSession((n) => n + 1);
        }}
      />
    );

  return (
    <>
      <header class="top">
        <h1>API keys</h1>
        <fieldset class="mode">
          <legend>Mode</legend>
          {(["live", "test"] as const).map((m) => (
            <label key={m}>
              <input type="radio" name="mode" value={m} checked={mode === m} onChange={() => setMode(m)} />
              {m === "live" ? "Live" : "Test"}
            </label>
          ))}
        </fieldset>
        <button
          type="button"
          class="link"
          onClick={() => {
            clearToken();
            setSignedIn(false);
          }}
        >
          Sign out
        </button>
      </header>
      <main key={session}>
        <Tabs tabs={TABS} current={tab} onSelect={(t) => setTab(t as TabId)} />
        <section id={`panel-${tab}`} role="tabpanel" aria-labelledby={`tab-${tab}`} class="panel">
          {tab === "key" && <KeyTab mode={mode} />}
          {tab === "usage" && <UsageTab mode={mode} />}
          {tab === "audit" && <AuditTab />}
          {tab === "webhooks" && <WebhooksTab />}
        </section>
      </main>
    </>
  );
}
