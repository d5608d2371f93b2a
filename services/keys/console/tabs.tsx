/** The WAI-ARIA tabs pattern: one tab stop, arrow keys (and Home/End) move between tabs. */
export function Tabs({ tabs, current, onSelect }: { tabs: readonly { id: string; label: string }[]; current: string; onSelect: (id: string) => void }) {
  const move = (e: KeyboardEvent) => {
    const i = tabs.findIndex((t) => t.id === current);
    const next = e.key === "ArrowRight" ? i + 1 : e.key === "ArrowLeft" ? i - 1 : e.key === "Home" ? 0 : e.key === "End" ? tabs.length - 1 : null;
    if (next === null) return;
    e.preventDefault();
    const t = tabs[(next + tabs.length) % tabs.length]!;
    onSelect(t.id);
    document.getElementById(`tab-${t.id}`)?.focus();
  };
  return (
    <div role="tablist" aria-label="Console sections" class="tabs" onKeyDown={move}>
      {tabs.map((t) => (
        <button
          key={t.id}
          type="button"
          role="tab"
          id={`tab-${t.id}`}
          aria-selected={t.id === current}
          aria-controls={`panel-${t.id}`}
          tabIndex={t.id === current ? 0 : -1}
          onClick={() => onSelect(t.id)}
        >
          {t.label}
        </button>
      ))}
    </div>
  );
}
