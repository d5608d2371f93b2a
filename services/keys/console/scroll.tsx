import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";

/**
 * A wide table or chart scrolls inside its card at narrow widths; focusable
 * and named so the keyboard can scroll it too. `atEnd` starts scrolled to the
 * right (a chart's newest buckets).
 */
export function Scroll({ label, atEnd, children }: { label: string; atEnd?: boolean; children: ComponentChildren }) {
  const ref = useRef<HTMLElement>(null);
  useEffect(() => {
    if (atEnd && ref.current) ref.current.scrollLeft = ref.current.scrollWidth;
  });
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard (WCAG 2.1.1)
    <section ref={ref} class="scroll" aria-label={label} tabIndex={0}>
      {children}
    </section>
  );
}
