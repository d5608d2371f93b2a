/** What a tab shows when this server has no such endpoint (an older version): calm, not an error. */
export function Unavailable({ what }: { what: string }) {
  return (
    <p class="card muted" id="unavailable">
      {what} is not available on this server.
    </p>
  );
}
