import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";

/**
 * A modal on the native <dialog>: showModal() makes the rest of the page
 * inert, traps Tab inside and closes on Escape; focus goes to the first field
 * and back to what opened it on close.
 */
export function Dialog({ title, onClose, children }: { title: string; onClose: () => void; children: ComponentChildren }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const opener = document.activeElement as HTMLElement | null;
    const d = ref.current!;
    d.showModal();
    d.querySelector<HTMLElement>("input, textarea, select")?.focus();
    return () => opener?.focus();
  }, []);
  const id = `dlg-${title.replace(/\W+/g, "-").toLowerCase()}`;
  return (
    <dialog ref={ref} aria-labelledby={id} onClose={onClose} class="card">
      <h2 id={id}>{title}</h2>
      {children}
    </dialog>
  );
}
